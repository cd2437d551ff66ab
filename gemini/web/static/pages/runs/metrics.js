// The Runs page's tracking columns: a run's status and duration, and the best value of chosen metrics
// (metrics=… in the URL; by default the page's main metrics), sorted by the server (order_by status,
// max(metric.<key>), min(…) or metric.<key>).

import { api } from "../../api.js";
import { h } from "../../dom.js";
import { formatNumber } from "../../format.js";
import { betterSide, bestOf, mainKeys } from "../../metric_keys.js";
import { durationText, statusBadge } from "../../tracking.js";

/** Metric columns shown by default. */
const DEFAULT_METRICS = 3;

/**
 * The sort of a metric column: the order_by term itself, by the value the column shows (the highest of
 * a key better high, the lowest of one better low, else the last), the key always backquoted, so it can
 * never be read as an info key ("metric.loss" in the info is another column).
 */
export function metricSort(key) {
  const term = `metric.\`${key.replaceAll("`", "``")}\``;
  const side = betterSide(key);
  return side ? `${side}(${term})` : term;
}

/** Whether a sort is one of these columns' (passed to the server as it is). */
export function isTrackingSort(key) {
  return key === "status" || key.startsWith("metric.`") || key.startsWith("max(metric.`") || key.startsWith("min(metric.`");
}

/**
 * The metric columns of a page without a choice: its main metrics (mAP before losses, no learning rates
 * or machine measures) among the keys that at least half of its tracked runs logged.
 */
export function defaultMetrics(summaries) {
  const tracked = summaries.filter((held) => held.size > 0);
  const counts = new Map();
  for (const held of tracked) for (const key of held.keys()) counts.set(key, (counts.get(key) || 0) + 1);
  return mainKeys([...counts.keys()].filter((key) => counts.get(key) * 2 >= tracked.length), DEFAULT_METRICS);
}

/** Each run's metric summaries as a Map key → summary, for the whole page in one read (tracked runs only). */
export async function readSummaries(runs) {
  const summaries = runs.map(() => new Map());
  const tracked = runs.filter((run) => run.status).map((run) => run.id);
  if (tracked.length === 0) return summaries;
  const position = new Map(runs.map((run, index) => [run.id, index]));
  for (const { run_id, summaries: ofRun } of await api.metricSummariesOfRuns(tracked)) {
    for (const summary of ofRun) summaries[position.get(run_id)].set(summary.key, summary);
  }
  return summaries;
}

/** The cell of a run's status. */
export function statusCell(run) {
  return h("td", { dataset: { key: "status" } }, statusBadge(run.status));
}

/** The cell of a run's duration: start to end, or so far. */
export function durationCell(run) {
  return h("td", { dataset: { key: "duration" } }, (run.status && durationText(run)) || h("span", { class: "muted" }, "—"));
}

/**
 * The cell of a metric's best value (its highest or lowest, as the key says; its last when the key has
 * no better side), with the last value under it when that is another; the tooltip has them in full.
 */
export function metricCell(summaries, key) {
  const summary = summaries.get(key);
  if (!summary) return h("td", { class: "num", dataset: { metric: key } }, h("span", { class: "muted" }, "—"));
  const best = bestOf(key, summary);
  const title = `${best.side ? `best (${best.side === "max" ? "highest" : "lowest"}) ${best.value}, ` : ""}last ${summary.last} at step ${summary.step}, min ${summary.min}, max ${summary.max}`;
  return h(
    "td",
    { class: "num", dataset: { metric: key }, title },
    formatNumber(best.value),
    best.side && formatNumber(best.value) !== formatNumber(summary.last) ? h("span", { class: "metric-last" }, `last ${formatNumber(summary.last)}`) : null,
  );
}

/** Which metrics are columns: every key logged by a tracked run of this page, and those chosen; null when there are none. */
export function metricChooser(chosen, seenKeys, choose) {
  const keys = [...new Set([...chosen, ...seenKeys])];
  const list = h("fieldset", { class: "column-list" }, h("legend", {}, "Metrics shown as columns, by their best value (the last for keys without a better side)"));
  keys.forEach((key, index) => {
    const id = `metric-col-${index}`;
    const box = h("input", { type: "checkbox", id, checked: chosen.includes(key), value: key });
    box.addEventListener("change", () => choose(keys.filter((k) => (k === key ? box.checked : chosen.includes(k)))));
    list.append(h("div", { class: "check" }, box, h("label", { for: id, class: "mono" }, key)));
  });
  // Pages of runs that were never tracked do not offer it.
  if (keys.length === 0) return null;
  return h("details", { class: "columns", id: "metric-columns" }, h("summary", {}, `Metric columns: ${chosen.length} of ${keys.length}…`), list);
}
