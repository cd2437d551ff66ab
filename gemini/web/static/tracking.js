// A tracked run's state on the run page: status and duration, a line chart per metric, artifacts with
// download links; and the poll that keeps a running run's page current.

import { api, artifactUrl, getToken, runStatuses } from "./api.js";
import { h, errorBox, formatTime } from "./dom.js";
import { lineChart, legend, colorOf, metricNumber } from "./charts.js";
import { eachLimited } from "./widgets.js";

/** Points per drawn series: a chart is about 560 px wide, so more would not show. */
export const MAX_POINTS = 500;
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

/**
 * The metrics of a run: a table of summaries and a line chart per key. `cache` (key → {summary, series})
 * keeps the histories already read, so a refresh reads again only the keys that changed.
 */
async function metricsSection(run, cache) {
  const summaries = await api.metricSummaries(run.id);
  const changed = summaries.filter((s) => {
    const held = cache.get(s.key)?.summary;
    return !held || held.count !== s.count || held.step !== s.step || held.last !== s.last;
  });
  await eachLimited(changed, 4, async (summary) => {
    const [series] = await api.metricHistories(summary.key, [run.id], MAX_POINTS);
    cache.set(summary.key, { summary, points: series ? series.points : [] });
  });
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
    h(
      "div",
      { class: "charts", id: "metric-charts" },
      summaries.map((s, index) => {
        const points = cache.get(s.key)?.points || [];
        const reduced = points.length < s.count;
        return h(
          "figure",
          { class: "chart-box", dataset: { key: s.key } },
          h("figcaption", {}, h("h3", { class: "mono" }, s.key)),
          lineChart({
            id: `metric-chart-${index}`,
            key: s.key,
            title: `${s.key} by step: ${s.count} points, steps up to ${s.step}, last ${s.last}`,
            series: [{ label: s.key, color: colorOf(0), runId: run.id, points }],
          }),
          reduced ? h("p", { class: "hint" }, `Drawn from ${points.length} of ${s.count} points, the extremes kept.`) : null,
          points.some((p) => !Number.isFinite(metricNumber(p.value)))
            ? h("p", { class: "hint" }, "Values that are not finite (NaN, ±Infinity) break the line.")
            : null,
        );
      }),
    ),
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
  const cache = new Map();
  const live = h("p", { class: "visually-hidden", "aria-live": "polite", id: "run-status-live" });
  const draw = async (current) => {
    const [metrics, artifacts] = await Promise.all([metricsSection(current, cache), artifactsSection(current)]);
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

/**
 * The compare page's overlay: one metric's curves for the compared runs. runs: [{run, label, color,
 * dashed}]. The picker offers the keys at least two of the runs logged, those all of them logged first.
 */
export async function metricCurvesSection({ runs, metric, onPick }) {
  const section = h("section", { "aria-labelledby": "curves-title", id: "metric-curves" }, h("h2", { id: "curves-title" }, "Metric curves"));
  const summaries = await Promise.all(runs.map((r) => api.metricSummaries(r.run.id)));
  const counts = new Map();
  for (const list of summaries) for (const s of list) counts.set(s.key, (counts.get(s.key) || 0) + 1);
  const keys = [...counts.keys()].filter((key) => counts.get(key) >= 2).sort((a, b) => counts.get(b) - counts.get(a) || a.localeCompare(b));
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
  const histories = await api.metricHistories(key, withKey.map((r) => r.run.id), MAX_POINTS);
  const byId = new Map(histories.map((s) => [String(s.run_id), s.points]));
  const drawn = withKey.filter((r) => byId.has(String(r.run.id)));
  const series = drawn.map((r) => ({ label: r.label, color: r.color, dashed: r.dashed, runId: r.run.id, points: byId.get(String(r.run.id)) }));
  const missing = runs.length - drawn.length;
  section.append(
    h("div", { class: "inline" }, h("label", { for: "curves-metric" }, "Metric"), select),
    h(
      "figure",
      { class: "chart-box" },
      h("figcaption", {}, h("h3", { class: "mono" }, key)),
      legend(series),
      lineChart({ id: "metric-curves-chart", key, title: `${key} by step for ${series.length} runs`, series, width: 900, height: 380 }),
      missing ? h("p", { class: "hint" }, `${missing} run(s) did not log ${key} and are not drawn.`) : null,
      h("p", { class: "hint" }, `Each curve is drawn from at most ${MAX_POINTS} points, its extremes kept.`),
    ),
  );
  return section;
}
