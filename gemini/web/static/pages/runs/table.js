// The Runs page's table: one row per run, sortable columns, and the runs picked for comparison.

import { h, notify, formatTime, formatValue, runLabel } from "../../dom.js";
import { formatNumber, fullNumber } from "../../format.js";
import { isNumber } from "../../info.js";
import { href, refresh } from "../../router.js";
import { selectedRuns, toggleRun, setSelectedRuns, MAX_COMPARE, MIN_COMPARE } from "../../selection.js";
import { BUILTIN_SORTS, go } from "./state.js";
import { durationCell, metricCell, metricSort, statusCell } from "./metrics.js";

/** How many runs are picked, and the link to compare them. */
export function compareBar() {
  const count = selectedRuns().length;
  const status = h("span", { id: "compare-count", "aria-live": "polite" }, `${count} selected for comparison`);
  const ready = count >= MIN_COMPARE;
  const link = ready
    ? h("a", { class: "button primary", id: "compare-link", href: href("/compare", { ids: selectedRuns().join(",") }) }, "Compare selected")
    : h("span", { class: "button disabled", id: "compare-link", "aria-disabled": "true" }, "Compare selected");
  return h(
    "div",
    { class: "compare-bar" },
    status,
    link,
    h("button", { type: "button", disabled: count === 0, onclick: () => { setSelectedRuns([]); refresh(); } }, "Clear selection"),
    h("span", { class: "hint" }, ` Pick ${MIN_COMPARE} to ${MAX_COMPARE} runs, on any page.`),
  );
}

/**
 * A column header whose button cycles the server's order: ascending, descending, none. `keep` goes into
 * the address with the order (the metric columns shown, so that the column sorted by stays).
 */
function sortHeader(state, key, label, numeric = false, keep = {}) {
  const ascending = state.sort === key;
  const descending = state.sort === `-${key}`;
  const next = ascending ? `-${key}` : descending ? "" : key;
  const ariaSort = ascending ? "ascending" : descending ? "descending" : "none";
  const arrow = ascending ? " ▲" : descending ? " ▼" : " ↕";
  return h(
    "th",
    { scope: "col", "aria-sort": ariaSort, dataset: { key }, class: numeric ? "num" : null },
    h(
      "button",
      { type: "button", class: "sort", title: `Sort by ${label}`, onclick: () => go({ sort: next, ...keep }) },
      label,
      h("span", { "aria-hidden": "true", class: ascending || descending ? "sort-mark" : "sort-mark idle" }, arrow),
    ),
  );
}

function compareBox(run, selected) {
  const box = h("input", {
    type: "checkbox",
    id: `pick-${run.id}`,
    checked: selected.has(String(run.id)),
    "aria-label": `Select run ${runLabel(run)} for comparison`,
  });
  box.addEventListener("change", () => {
    if (!toggleRun(String(run.id), box.checked)) {
      box.checked = false;
      notify(`At most ${MAX_COMPARE} runs can be compared at once.`, "error");
    }
    document.querySelector(".compare-bar")?.replaceWith(compareBar());
  });
  return box;
}

/** The runs in the server's order, with the chosen info keys (`rowsInfo`: each run's flattened info). */
export function runsTable(state, runs, rowsInfo, columns, { summaries, metrics }) {
  // The status column shows once a run of the page is tracked, or while the table is sorted by it.
  const withStatus = state.sort.replace(/^-/, "") === "status" || runs.some((run) => run.status);
  const selected = new Set(selectedRuns());
  const head = h(
    "tr",
    {},
    h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Compare")),
    h("th", { scope: "col" }, "Run"),
    sortHeader(state, "model.name", BUILTIN_SORTS["model.name"]),
    sortHeader(state, "created_at", BUILTIN_SORTS.created_at),
    withStatus ? sortHeader(state, "status", "Status") : null,
    withStatus ? h("th", { scope: "col" }, "Duration") : null,
    metrics.map((key) => sortHeader(state, metricSort(key), key, true, { metrics })),
    columns.map((key) => sortHeader(state, key, key, rowsInfo.some((info) => isNumber(info.get(key))))),
  );
  const body = h("tbody");
  runs.forEach((run, index) => {
    const info = rowsInfo[index];
    body.append(
      h(
        "tr",
        { dataset: { runId: run.id } },
        h("td", {}, compareBox(run, selected)),
        h("th", { scope: "row" }, h("a", { href: href(`/runs/${run.id}`), class: run.run_name ? "run-name" : "mono", title: run.id }, runLabel(run))),
        h("td", {}, run.model_name ?? h("span", { class: "muted" }, "—")),
        h("td", {}, formatTime(run.created_at)),
        withStatus ? statusCell(run) : null,
        withStatus ? durationCell(run) : null,
        metrics.map((key) => metricCell(summaries[index], key)),
        columns.map((key) => {
          const value = info.get(key);
          if (isNumber(value)) return h("td", { class: "num", dataset: { key }, title: fullNumber(value) }, formatNumber(value));
          const text = formatValue(value);
          return h("td", { dataset: { key }, title: text.length > 40 ? text : null }, text);
        }),
      ),
    );
  });
  return h(
    "div",
    { class: "table-wrap" },
    h("table", { class: "data", id: "runs-table" }, h("caption", { class: "visually-hidden" }, "Model runs"), h("thead", {}, head), body),
  );
}
