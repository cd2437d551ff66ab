// A tracked run's state on the run page: status and duration, a line chart per metric, artifacts with
// download links; and the poll that keeps a running run's page current.

import { api, artifactUrl, getToken, runStatuses } from "./api.js";
import { h, errorBox, formatTime } from "./dom.js";
import { legend, colorOf, metricNumber } from "./charts.js";
import { metricCurves, plotPixelsInFigure, pointsForWidth } from "./curves.js";

/** How often a running run's page reads it again. */
export const POLL_MS = 3000;
const ARTIFACT_PAGE = 1000;

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

/** "6.0 MiB" with the exact count of bytes in the tooltip. */
export function formatSize(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
  return h("span", { title: `${bytes.toLocaleString()} bytes` }, text);
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
 * A key's figure on the run page. `charts` (key → {summary, figure, chart}) keeps each key's chart
 * across refreshes: a refresh reads again only the keys whose summary changed, and a zoom stays.
 */
function metricFigure(run, summary, charts) {
  const title = `${summary.key} by step: ${summary.count} points, steps up to ${summary.step}, last ${summary.last}`;
  const held = charts.get(summary.key);
  if (held) {
    if (summaryChanged(held.summary, summary)) {
      held.summary = summary;
      held.chart.reload({ title });
    }
    return held.figure;
  }
  const entry = { summary };
  entry.chart = metricCurves({
    id: `metric-chart-${charts.size}`,
    key: summary.key,
    title,
    series: [{ label: summary.key, color: colorOf(0), runId: run.id }],
    load: ({ runIds, ...range }) => api.metricHistories(summary.key, runIds, range),
    describe: (view) => runChartNote(view, entry.summary),
  });
  entry.figure = h("figure", { class: "chart-box", dataset: { key: summary.key } }, h("figcaption", {}, h("h3", { class: "mono" }, summary.key)), entry.chart.element);
  charts.set(summary.key, entry);
  return entry.figure;
}

/** The metrics of a run: a table of summaries and a line chart per key, each reading its own points. */
async function metricsSection(run, charts) {
  const summaries = await api.metricSummaries(run.id);
  const section = h("section", { "aria-labelledby": "metrics-title", id: "run-metrics" }, h("h2", { id: "metrics-title" }, "Metrics"));
  if (summaries.length === 0) {
    section.append(h("p", { class: "muted" }, run.status === "running" ? "No metric logged yet." : "This run has no metrics."));
    return section;
  }
  const cell = (value) => h("td", { class: "num" }, value === null || value === undefined ? "—" : String(value));
  section.append(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data", id: "metric-summaries" },
        h("caption", { class: "visually-hidden" }, "Each metric's last value, extremes, last step and number of points"),
        h(
          "thead",
          {},
          h("tr", {}, ["Metric", "Last", "Min", "Max", "Last step", "Points"].map((t, i) => h("th", { scope: "col", class: i ? "num" : null }, t))),
        ),
        h(
          "tbody",
          {},
          summaries.map((s) =>
            h("tr", { dataset: { key: s.key } }, h("th", { scope: "row", class: "mono" }, s.key), cell(s.last), cell(s.min), cell(s.max), cell(s.step), cell(s.count)),
          ),
        ),
      ),
    ),
    h("div", { class: "charts", id: "metric-charts" }, summaries.map((s) => metricFigure(run, s, charts))),
  );
  return section;
}

async function artifactsSection(run) {
  const artifacts = await api.listArtifacts(run.id, { limit: ARTIFACT_PAGE });
  const section = h("section", { "aria-labelledby": "artifacts-title", id: "run-artifacts" }, h("h2", { id: "artifacts-title" }, "Artifacts"));
  if (artifacts.length === 0) {
    section.append(h("p", { class: "muted" }, "This run has no artifacts."));
    return section;
  }
  section.append(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data", id: "artifacts-table" },
        h("caption", { class: "visually-hidden" }, "The run's artifacts; each name downloads the file"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col", class: "num" }, "Size"), h("th", { scope: "col" }, "SHA-256"))),
        h(
          "tbody",
          {},
          artifacts.map((a) =>
            h(
              "tr",
              { dataset: { name: a.name } },
              h("td", { class: "mono" }, h("a", { href: artifactUrl(run.id, a.name), download: a.name.split("/").pop(), onclick: (event) => downloadWithToken(event, artifactUrl(run.id, a.name), a.name) }, a.name)),
              h("td", { class: "num" }, formatSize(a.size)),
              h("td", { class: "mono small", title: a.sha256 }, `${a.sha256.slice(0, 12)}…`),
            ),
          ),
        ),
      ),
    ),
  );
  if (artifacts.length === ARTIFACT_PAGE) section.append(h("p", { class: "hint" }, `The first ${ARTIFACT_PAGE} artifacts by name are listed.`));
  return section;
}

/**
 * A plain link streams the download (an artifact's, a model version's: `url`) to disk, but cannot carry
 * the token a private server asks for: while the tab holds one, the bytes are fetched with it and handed
 * to the browser as a file instead.
 */
export async function downloadWithToken(event, url, name) {
  const token = getToken();
  if (!token) return;
  event.preventDefault();
  const link = event.currentTarget;
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) {
    link.after(errorBox(`The download of ${name} failed (HTTP ${response.status}).`));
    return;
  }
  const blobUrl = URL.createObjectURL(await response.blob());
  const temporary = h("a", { href: blobUrl, download: name.split("/").pop() });
  document.body.append(temporary);
  temporary.click();
  temporary.remove();
  setTimeout(() => URL.revokeObjectURL(blobUrl), 60_000);
}

/**
 * The tracking part of the run page, drawn into `holder`. While the run is running it reads the run
 * again every POLL_MS and redraws, and stops once the run has ended or the page is no longer shown
 * (`isCurrent` false). A hidden tab skips its reads until it is shown again.
 */
export async function trackingPanel(holder, run, { isCurrent }) {
  const charts = new Map();
  const live = h("p", { class: "visually-hidden", "aria-live": "polite", id: "run-status-live" });
  const draw = async (current) => {
    const [metrics, artifacts] = await Promise.all([metricsSection(current, charts), artifactsSection(current)]);
    return [...statusFacts(current), metrics, artifacts];
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

/** The keys at least two of the runs logged (their summaries: one list a run), and how many runs logged each. */
function sharedKeys(summaries) {
  const counts = new Map();
  for (const list of summaries) for (const s of list) counts.set(s.key, (counts.get(s.key) || 0) + 1);
  const keys = [...counts.keys()].filter((key) => counts.get(key) >= 2).sort((a, b) => counts.get(b) - counts.get(a) || a.localeCompare(b));
  return { keys, counts };
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
    const { keys } = sharedKeys(ids.map((id) => found.get(String(id)) ?? []));
    const key = keys.includes(metric) ? metric : keys[0];
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
 * dashed}]; early: readCurvesEarly's reads. The picker offers the keys at least two of the runs logged,
 * those all of them logged first.
 */
export async function metricCurvesSection({ runs, metric, onPick, early }) {
  const section = h("section", { "aria-labelledby": "curves-title", id: "metric-curves" }, h("h2", { id: "curves-title" }, "Metric curves"));
  // Read early for the runs of the address; again for those that loaded if that failed (an id mistyped).
  const found = await early.summaries.catch(() => summariesByRun(runs.map((r) => r.run.id)));
  const summaries = runs.map((r) => found.get(String(r.run.id)) ?? []);
  const { keys, counts } = sharedKeys(summaries);
  if (keys.length === 0) {
    const any = summaries.some((list) => list.length > 0);
    section.append(h("p", { class: "muted" }, any ? "No metric was logged by two or more of these runs." : "None of these runs has logged metrics."));
    return section;
  }
  const key = keys.includes(metric) ? metric : keys[0];
  const select = h(
    "select",
    { id: "curves-metric" },
    keys.map((k) => h("option", { value: k, selected: k === key }, counts.get(k) === runs.length ? k : `${k} (${counts.get(k)} of ${runs.length} runs)`)),
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
  section.append(
    h("div", { class: "inline" }, h("label", { for: "curves-metric" }, "Metric"), select),
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
