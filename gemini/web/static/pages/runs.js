// Runs: a table whose columns are flattened info keys chosen by the user, with the server's search,
// order and pages. The parts: runs/state.js (the view in the URL), runs/fetch.js (the one read),
// runs/forms.js (controls, columns, a new run) and runs/table.js (the table and the comparison picks).

import { api } from "../api.js";
import { h, errorBox } from "../dom.js";
import { differs, flatten, unionKeys } from "../info.js";
import { pager } from "../widgets.js";
import { href } from "../router.js";
import { fetchRuns, runsQuery } from "./runs/fetch.js";
import { columnChooser, controls, createRunForm } from "./runs/forms.js";
import { viewState, stateParams } from "./runs/state.js";
import { compareBar, runsTable } from "./runs/table.js";
import { defaultMetrics, metricChooser, readSummaries } from "./runs/metrics.js";
import { go } from "./runs/state.js";

const DEFAULT_COLUMNS = 6;

/**
 * The info columns of a page without a choice: every key when there are few; else the keys that differ
 * between its runs (what tells them apart), or the first keys when nothing differs (a single run).
 */
function defaultColumns(rowsInfo, seenKeys) {
  if (seenKeys.length <= DEFAULT_COLUMNS) return seenKeys;
  const differing = seenKeys.filter((key) => differs(rowsInfo.map((info) => info.get(key))));
  return (differing.length ? differing : seenKeys).slice(0, DEFAULT_COLUMNS);
}
// The model selects offer the first models by creation; another model's name still works from the URL.
const MODEL_CHOICES = 1000;

export async function renderRuns(container, { params }) {
  const state = viewState(params);
  const { items: models } = await api.listModels({ limit: MODEL_CHOICES });
  container.append(
    h("h1", { tabindex: "-1" }, state.model ? `Runs of ${state.model}` : "Runs"),
    state.model
      ? h("p", { class: "breadcrumb", id: "runs-model-page" }, h("a", { href: href(`/models/${encodeURIComponent(state.model)}`) }, "The model's page: its versions and aliases"))
      : "", // append() would write a null as the text "null"
    controls(state, models),
    createRunForm(state, models),
  );

  const { query, error } = runsQuery(state);
  if (error) {
    container.append(errorBox(error));
    return;
  }
  let result;
  try {
    result = await fetchRuns(state, query);
  } catch (failure) {
    container.append(errorBox(failure.message));
    return;
  }
  const runs = result.items;
  const rowsInfo = runs.map((run) => flatten(run.model_run_info));
  const seenKeys = unionKeys(runs.map((run) => run.model_run_info));
  const columns = state.cols === null ? defaultColumns(rowsInfo, seenKeys) : state.cols;

  const summaries = await readSummaries(runs);
  const metricKeys = [...new Set(summaries.flatMap((held) => [...held.keys()]))].sort();
  const metrics = state.metrics ?? defaultMetrics(summaries);
  container.append(
    columnChooser(state, columns, seenKeys),
    metricChooser(metrics, metricKeys, (chosen) => go({ metrics: chosen, page: state.page })) ?? "",
    compareBar(),
  );
  if (runs.length === 0) {
    container.append(h("p", { class: "empty", id: "runs-empty" }, state.filter.trim() ? "No runs match this filter." : "No runs here yet."));
  } else {
    container.append(runsTable(state, runs, rowsInfo, columns, { summaries, metrics }));
  }
  container.append(
    pager({
      path: "/runs",
      params: { ...stateParams(state), after: "" }, // only the Next link carries a cursor
      page: state.page,
      size: state.size,
      count: result.count,
      shown: runs.length,
      nextExtra: result.nextCursor ? { after: result.nextCursor } : {},
    }),
  );
}
