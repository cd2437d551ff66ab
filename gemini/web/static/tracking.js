// A tracked run's state on the run page: status and duration, its metrics grouped by prefix (a chart
// per key, a number for a key of one point), its artifacts (artifacts.js); the poll that keeps a running
// run's page current; and the compare page's overlay of one metric's curves.

import { api, runStatuses } from "./api.js";
import { h, errorBox, formatTime } from "./dom.js";
import { artifactsSection } from "./artifacts.js";
import { legend, colorOf, metricNumber } from "./charts.js";
import { curveView, curveViewControls, curveViewParams, metricCurves, plotPixelsInFigure, pointsForWidth } from "./curves.js";
import { formatNumber, numberCell, numberText } from "./format.js";
import { compareGroups, compareKeys, groupKeys, groupOf, groupTitle } from "./metric_keys.js";
import { replaceParams } from "./router.js";

/** How often a running run's page reads it again. */
export const POLL_MS = 3000;
/** A run of many keys (a training logs a dozen or more) has smaller charts, three to a row on a wide screen. */
const COMPACT_FROM = 3;
const COMPACT_WIDTH = 460;
const COMPACT_HEIGHT = 260;

/** The statuses the server lists (from /api/health), once it has answered. */
let knownStatuses = null;

function statusClass(status) {
  return `status status-${knownStatuses.has(status) ? status : "other"}`;
}

/**
 * A status as a badge; the word itself carries the meaning, the colour only repeats it. A status the
 * server does not list is drawn as "other". Until the server's list has arrived (once per page) the
 * badge is plain, and takes its colour then.
 */
export function statusBadge(status) {
  if (!status) return h("span", { class: "muted" }, "not tracked");
  if (knownStatuses) return h("span", { class: statusClass(status) }, status);
  const badge = h("span", { class: "status" }, status);
  runStatuses().then((statuses) => {
    if (statuses.length === 0) return;
    knownStatuses ??= new Set(statuses);
    badge.className = statusClass(status);
  });
  return badge;
}

/** "2 h 05 min", "3 min 07 s", "12 s". */
export function formatDuration(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const min = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const pad = (n) => String(n).padStart(2, "0");
  if (d) return `${d} d ${pad(hours)} h`;
  if (hours) return `${hours} h ${pad(min)} min`;
  if (min) return `${min} min ${pad(s)} s`;
  return `${s} s`;
}

/** The run's duration as text: start to end, or start to now while it runs; unknown for a lost run. */
export function durationText(run, now = Date.now()) {
  if (!run.started_at) return null;
  const start = new Date(run.started_at).getTime();
  if (run.ended_at) return formatDuration(new Date(run.ended_at).getTime() - start);
  if (run.status === "running") return `${formatDuration(now - start)} so far`;
  return "unknown (its process stopped reporting)";
}

function statusFacts(run) {
  const facts = h(
    "dl",
    { class: "facts", id: "run-tracking" },
    h("dt", {}, "Status"),
    h("dd", { id: "run-status" }, statusBadge(run.status)),
  );
  if (run.status) {
    facts.append(
      h("dt", {}, "Started"),
      h("dd", {}, formatTime(run.started_at)),
      h("dt", {}, "Ended"),
      h("dd", {}, run.ended_at ? formatTime(run.ended_at) : h("span", { class: "muted" }, "—")),
      h("dt", {}, "Duration"),
      h("dd", { id: "run-duration" }, durationText(run) ?? h("span", { class: "muted" }, "—")),
    );
  }
  const parts = [facts];
  if (run.status === "lost") {
    parts.push(
      h(
        "p",
        { class: "hint", id: "run-lost" },
        "Its process stopped sending heartbeats while the run was running: it probably crashed or its machine went down. The points it wrote before are kept.",
      ),
    );
  }
  if (run.status === "failed" && (run.error_type || run.error_message)) {
    parts.push(
      h(
        "div",
        { class: "run-error", id: "run-error" },
        h("strong", {}, run.error_type || "Error"),
        run.error_message ? h("pre", {}, run.error_message) : null,
      ),
    );
  }
  return parts;
}

/** Whether a key's summary moved since its chart was read (a running run logged more). */
function summaryChanged(held, summary) {
  return held.count !== summary.count || held.step !== summary.step || held.last !== summary.last;
}

/** How many of a sorted list of steps fall in a zoom's range (all of them without a zoom). */
function stepsInView(steps, zoom) {
  if (!zoom) return steps.length;
  let count = 0;
  for (const step of steps) if (step >= zoom.start && step <= zoom.end) count += 1;
  return count;
}

/** The hint under a run's chart of one key: how its points were reduced, and its values not finite. */
function runChartNote({ series: [series], zoom }, summary) {
  if (!series) return null;
  const drawn = stepsInView(series.steps, zoom);
  const sentences = [];
  if (series.reduced && zoom) sentences.push(`Steps ${zoom.start} to ${zoom.end} drawn from ${drawn} points, the extremes kept.`);
  else if (series.reduced) sentences.push(`Drawn from ${drawn} of ${summary.count} points, the extremes kept; drag across the chart to zoom in.`);
  else if (zoom) sentences.push(`Steps ${zoom.start} to ${zoom.end}: every point (${drawn}).`);
  if (series.values.some((v) => !Number.isFinite(metricNumber(v)))) sentences.push("Values that are not finite (NaN, ±Infinity) break the line.");
  return sentences.join(" ") || null;
}

/**
 * A key's figure on the run page. `panel.charts` (key → {summary, figure, chart}) keeps each key's
 * chart across refreshes: a refresh reads again only the keys whose summary changed, and a zoom stays.
 */
function metricFigure(run, summary, panel, compact) {
  const title = `${summary.key} by step: ${summary.count} points, steps up to ${summary.step}, last ${formatNumber(summary.last)}`;
  const held = panel.charts.get(summary.key);
  if (held) {
    if (summaryChanged(held.summary, summary)) {
      held.summary = summary;
      held.chart.reload({ title });
    }
    return held.figure;
  }
  const entry = { summary };
  entry.chart = metricCurves({
    id: `metric-chart-${panel.charts.size}`,
    key: summary.key,
    title,
    series: [{ label: summary.key, color: colorOf(0), runId: run.id }],
    ...(compact ? { width: COMPACT_WIDTH, height: COMPACT_HEIGHT } : {}),
    view: panel.view,
    load: ({ runIds, ...range }) => api.metricHistories(summary.key, runIds, range),
    describe: (view) => runChartNote(view, entry.summary),
  });
  entry.figure = h("figure", { class: "chart-box", dataset: { key: summary.key } }, h("figcaption", {}, h("h4", { class: "mono" }, summary.key)), entry.chart.element);
  panel.charts.set(summary.key, entry);
  return entry.figure;
}

/** A key logged once: its value as a number, not a chart of one dot. */
function singlePoint(summary) {
  return h(
    "div",
    { class: "metric-number", dataset: { key: summary.key } },
    h("dt", { class: "mono" }, summary.key),
    h("dd", { class: "value" }, numberText(summary.last)),
    h("dd", { class: "muted small" }, `step ${summary.step}`),
  );
}

/** One group of keys (metrics/, val/, …): its numbers, then its charts; open unless the user closed it. */
function metricGroup(run, group, keys, byKey, panel, compact) {
  const numbers = keys.filter((key) => byKey.get(key).count <= 1);
  const curves = keys.filter((key) => byKey.get(key).count > 1);
  const details = h(
    "details",
    { class: "metric-group", open: !panel.closedGroups.has(group), dataset: { group } },
    h("summary", {}, h("h3", { class: "mono" }, groupTitle(group)), h("span", { class: "muted small" }, `${keys.length} key${keys.length === 1 ? "" : "s"}`)),
    numbers.length ? h("dl", { class: "metric-numbers" }, numbers.map((key) => singlePoint(byKey.get(key)))) : null,
    curves.length ? h("div", { class: compact ? "charts run-charts" : "charts" }, curves.map((key) => metricFigure(run, byKey.get(key), panel, compact))) : null,
  );
  details.addEventListener("toggle", () => (details.open ? panel.closedGroups.delete(group) : panel.closedGroups.add(group)));
  return details;
}

/** The metrics of a run: its keys grouped by prefix, the most telling groups first, then a table of every key's summary. */
async function metricsSection(run, panel) {
  const summaries = await api.metricSummaries(run.id);
  const section = h("section", { "aria-labelledby": "metrics-title", id: "run-metrics" }, h("h2", { id: "metrics-title" }, "Metrics"));
  if (summaries.length === 0) {
    section.append(h("p", { class: "muted" }, run.status === "running" ? "No metric logged yet." : "This run has no metrics."));
    return section;
  }
  const byKey = new Map(summaries.map((s) => [s.key, s]));
  const groups = groupKeys(summaries.map((s) => s.key));
  const ordered = groups.flatMap((g) => g.keys.map((key) => byKey.get(key)));
  const plain = (value) => h("td", { class: "num" }, String(value));
  const compact = summaries.filter((s) => s.count > 1).length >= COMPACT_FROM;
  section.append(
    summaries.some((s) => s.count > 1) ? panel.controls : "",
    h("div", { id: "metric-charts", class: "metric-groups" }, groups.map(({ group, keys }) => metricGroup(run, group, keys, byKey, panel, compact))),
    h("h3", { id: "metric-summaries-title" }, "Every key"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data", id: "metric-summaries", "aria-labelledby": "metric-summaries-title" },
        h("caption", { class: "visually-hidden" }, "Each metric's last value, extremes, last step and number of points"),
        h(
          "thead",
          {},
          h("tr", {}, ["Metric", "Last", "Min", "Max", "Last step", "Points"].map((t, i) => h("th", { scope: "col", class: i ? "num" : null }, t))),
        ),
        h(
          "tbody",
          {},
          ordered.map((s) =>
            h("tr", { dataset: { key: s.key } }, h("th", { scope: "row", class: "mono" }, s.key), numberCell(s.last), numberCell(s.min), numberCell(s.max), plain(s.step), plain(s.count)),
          ),
        ),
      ),
    ),
  );
  return section;
}

/**
 * The tracking part of the run page, drawn into `holder`. While the run is running it reads the run
 * again every POLL_MS and redraws, and stops once the run has ended or the page is no longer shown
 * (`isCurrent` false). A hidden tab skips its reads until it is shown again. The charts' x axis and
 * smoothing come from the address (`xaxis=`, `smooth=`) and change it in place, without a read.
 */
export async function trackingPanel(holder, run, { isCurrent, params }) {
  const panel = { charts: new Map(), closedGroups: new Set(), view: curveView(params ?? new URLSearchParams()) };
  panel.controls = curveViewControls(
    panel.view,
    (view) => {
      for (const entry of panel.charts.values()) entry.chart.setView(view);
      replaceParams(curveViewParams(view));
    },
    "run-curves",
  );
  let artifacts = null;
  const live = h("p", { class: "visually-hidden", "aria-live": "polite", id: "run-status-live" });
  const draw = async (current) => {
    const [metrics, files] = await Promise.all([metricsSection(current, panel), artifactsSection(current, artifacts)]);
    artifacts = files;
    return [...statusFacts(current), metrics, files];
  };
  holder.replaceChildren(live, ...(await draw(run)));
  if (run.status !== "running") return;

  let previous = run;
  const tick = async () => {
    if (!isCurrent()) return;
    if (document.hidden) {
      setTimeout(tick, POLL_MS);
      return;
    }
    try {
      const current = await api.getRun(run.id);
      const parts = await draw(current);
      if (!isCurrent()) return;
      holder.replaceChildren(live, ...parts);
      if (current.status !== previous.status) live.textContent = `The run is now ${current.status}.`;
      previous = current;
      if (current.status !== "running") return;
    } catch (error) {
      if (!isCurrent()) return;
      holder.querySelector("#run-refresh-error")?.remove();
      holder.append(h("div", { id: "run-refresh-error" }, errorBox(`The run could not be read again: ${error.message}. Trying again.`)));
    }
    setTimeout(tick, POLL_MS);
  };
  setTimeout(tick, POLL_MS);
}

/**
 * The keys at least two of the runs logged (their summaries: one list a run), by group (metrics/ first,
 * system/ last) and within a group those the most runs logged first; how many runs logged each; and the
 * key drawn unless another is chosen: the first of those logged by the most runs.
 */
function sharedKeys(summaries) {
  const counts = new Map();
  for (const list of summaries) for (const s of list) counts.set(s.key, (counts.get(s.key) || 0) + 1);
  const keys = [...counts.keys()]
    .filter((key) => counts.get(key) >= 2)
    .sort((a, b) => compareGroups(groupOf(a), groupOf(b)) || counts.get(b) - counts.get(a) || compareKeys(a, b));
  const most = Math.max(0, ...keys.map((key) => counts.get(key)));
  return { keys, counts, preferred: keys.find((key) => counts.get(key) === most) };
}

/** The shared keys and the runs' summaries, by run id, for the compare page's charts of metrics. */
export async function compareSummaries(early, runIds) {
  // Read early for the runs of the address; again for those that loaded if that failed (an id mistyped).
  return early.summaries.catch(() => summariesByRun(runIds));
}

const CURVES_WIDTH = 900;
const CURVES_HEIGHT = 380;

/**
 * The compare page's reads for its curves, sent before its runs are read: the metric summaries of the
 * runs in the address (`ids`), then the chosen key's series for the width the chart will have in
 * `place` (where the page is laid out). metricCurvesSection takes them up.
 */
export function readCurvesEarly(ids, metric, place) {
  const pixels = plotPixelsInFigure(place, CURVES_WIDTH, CURVES_HEIGHT);
  const summaries = summariesByRun(ids);
  const first = summaries.then((found) => {
    const { keys, preferred } = sharedKeys(ids.map((id) => found.get(String(id)) ?? []));
    const key = keys.includes(metric) ? metric : preferred;
    if (!key || !pixels) return null;
    const runIds = ids.filter((id) => found.get(String(id))?.some((s) => s.key === key)).map(String);
    const maxPoints = pointsForWidth(pixels);
    const answer = api.metricHistories(key, runIds, { maxPoints });
    answer.catch(() => {}); // its reader reports a failure; a page left before then has none
    return { key, runIds, maxPoints, answer };
  });
  summaries.catch(() => {});
  first.catch(() => {});
  return { pixels, summaries, first };
}

/** The metric summaries of runs, by run id (runs without metrics: none). */
async function summariesByRun(ids) {
  return new Map((await api.metricSummariesOfRuns(ids)).map((entry) => [String(entry.run_id), entry.summaries]));
}

/** The Performance API mark set once a frame shows the compare page's curves over every step (docs/web.md). */
const CURVES_DRAWN_MARK = "gemini:curves-drawn";

function markCurvesDrawn(view) {
  const detail = { series: view.series.length, points: view.series.reduce((n, s) => n + s.steps.length, 0) };
  // After the frame that paints them: a task queued from the frame's callback runs once it is painted.
  requestAnimationFrame(() => setTimeout(() => performance.mark(CURVES_DRAWN_MARK, { detail })));
}

/**
 * The compare page's overlay: one metric's curves for the compared runs. runs: [{run, label, color,
 * dashed}]; early: readCurvesEarly's reads; view: the x axis and smoothing ({xAxis, smoothing}, from the
 * address, changed in place). The picker offers the keys at least two of the runs logged, grouped by
 * prefix, those the most runs logged first in each group.
 */
export async function metricCurvesSection({ runs, metric, view, onPick, early }) {
  const section = h("section", { "aria-labelledby": "curves-title", id: "metric-curves" }, h("h2", { id: "curves-title" }, "Metric curves"));
  const found = await compareSummaries(early, runs.map((r) => r.run.id));
  const summaries = runs.map((r) => found.get(String(r.run.id)) ?? []);
  const { keys, counts, preferred } = sharedKeys(summaries);
  if (keys.length === 0) {
    const any = summaries.some((list) => list.length > 0);
    section.append(h("p", { class: "muted" }, any ? "No metric was logged by two or more of these runs." : "None of these runs has logged metrics."));
    return section;
  }
  const key = keys.includes(metric) ? metric : preferred;
  const option = (k) => h("option", { value: k, selected: k === key }, counts.get(k) === runs.length ? k : `${k} (${counts.get(k)} of ${runs.length} runs)`);
  const groups = [...new Set(keys.map(groupOf))];
  const select = h(
    "select",
    { id: "curves-metric" },
    groups.length > 1
      ? groups.map((group) => h("optgroup", { label: groupTitle(group) }, keys.filter((k) => groupOf(k) === group).map(option)))
      : keys.map(option),
  );
  select.addEventListener("change", () => onPick(select.value));
  const withKey = runs.filter((r, index) => summaries[index].some((s) => s.key === key));
  const series = withKey.map((r) => ({ label: r.label, color: r.color, dashed: r.dashed, runId: r.run.id }));
  const missing = runs.length - withKey.length;
  let sent = await early.first.catch(() => null);
  const load = ({ runIds, ...range }) => {
    // The read sent early is this one when it asked for the same runs at the same width.
    const same = sent && sent.key === key && sent.maxPoints === range.maxPoints && range.startStep === undefined && sent.runIds.join() === runIds.map(String).join();
    const answer = same ? sent.answer : api.metricHistories(key, runIds, range);
    sent = null;
    return answer;
  };
  const curves = metricCurves({
    id: "metric-curves-chart",
    key,
    title: `${key} by step for ${series.length} runs`,
    series,
    width: CURVES_WIDTH,
    height: CURVES_HEIGHT,
    pixels: early.pixels,
    view,
    load,
    describe: ({ series: drawn, zoom, maxPoints }) => {
      if (!drawn.some((s) => s.reduced)) return null;
      return zoom
        ? `The longer curves of steps ${zoom.start} to ${zoom.end} are drawn from at most ${maxPoints} points each, their extremes kept.`
        : `The longer curves are drawn from at most ${maxPoints} points each, their extremes kept; drag across the chart to zoom in.`;
    },
    onDraw: (view) => {
      if (!view.zoom) markCurvesDrawn(view);
    },
  });
  const controls = curveViewControls(
    view,
    (next) => {
      curves.setView(next);
      replaceParams(curveViewParams(next));
    },
    "compare-curves",
  );
  section.append(
    h("div", { class: "inline" }, h("label", { for: "curves-metric" }, "Metric"), select, controls),
    h(
      "figure",
      { class: "chart-box" },
      h("figcaption", {}, h("h3", { class: "mono" }, key)),
      legend(series),
      curves.element,
      missing ? h("p", { class: "hint" }, `${missing} run(s) did not log ${key} and are not drawn.`) : null,
    ),
  );
  return section;
}
