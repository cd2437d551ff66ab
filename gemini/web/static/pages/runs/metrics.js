// The Runs page's tracking columns: a run's status, and the last value of chosen metrics (metrics=… in
// the URL), both sorted by the server (order_by status, metric.<key>).

import { api } from "../../api.js";
import { h } from "../../dom.js";
import { statusBadge } from "../../tracking.js";

/** The sort of a metric column: the order_by term itself, the key always backquoted, so it can never be
 * read as an info key ("metric.loss" in the info is another column). */
export function metricSort(key) {
  return `metric.\`${key.replaceAll("`", "``")}\``;
}

/** Whether a sort is one of these columns' (passed to the server as it is). */
export function isTrackingSort(key) {
  return key === "status" || key.startsWith("metric.`");
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

/** The cell of a metric's last value (a dash when the run has not logged it). */
export function metricCell(summaries, key) {
  const summary = summaries.get(key);
  return h(
    "td",
    { class: "num", dataset: { metric: key }, title: summary ? `step ${summary.step}, min ${summary.min}, max ${summary.max}` : null },
    summary ? String(summary.last) : h("span", { class: "muted" }, "—"),
  );
}

/** Which metrics are columns: every key logged by a tracked run of this page, and those chosen; null when there are none. */
export function metricChooser(chosen, seenKeys, choose) {
  const keys = [...new Set([...chosen, ...seenKeys])];
  const list = h("fieldset", { class: "column-list" }, h("legend", {}, "Metrics shown as columns, by their last value"));
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
