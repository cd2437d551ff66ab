// The Runs page's one read: the state's filter, model, order and page as a query of GET /api/model_runs.

import { api } from "../../api.js";
import { parseInfo } from "../../info.js";
import { BUILTIN_SORTS } from "./state.js";
import { isTrackingSort } from "./metrics.js";

/** An order_by term for the server: info keys that are not plain names are backquoted, as the search
 * language wants; the page's own "created_at" and "model.name" columns are the fields of those names. */
export function orderByParam(sort) {
  const descending = sort.startsWith("-");
  const key = descending ? sort.slice(1) : sort;
  if (key in BUILTIN_SORTS || isTrackingSort(key)) return sort;
  const parts = key.split(".").map((part, index) => {
    const reserved = index === 0 && ["name", "version", "created_at", "updated_at", "model", "status", "started_at", "ended_at", "created_by", "metric", "min", "max", "last"].includes(part);
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(part) && !reserved ? part : `\`${part.replaceAll("`", "``")}\``;
  });
  return `${descending ? "-" : ""}${parts.join(".")}`;
}

/**
 * The query for a state, as {query} or {error} when the filter cannot be read. The filter is a JSON
 * object (a containment pattern) when it starts with "{", else a search expression.
 */
export function runsQuery(state) {
  const query = { limit: state.size, offset: (state.page - 1) * state.size, model_name: state.model || undefined };
  const filterText = state.filter.trim();
  if (filterText.startsWith("{")) {
    const parsed = parseInfo(filterText, { allowEmpty: false, what: "The filter" });
    if (parsed.error) return { error: parsed.error };
    query.model_run_info = JSON.stringify(parsed.value);
  } else if (filterText) {
    query.where = filterText;
  }
  if (state.sort) query.order_by = orderByParam(state.sort);
  return { query };
}

/**
 * The page of runs of a state: {items, count, nextCursor}. A page reached by "Next" carries the server's
 * cursor (after=…), so a deep page costs what the first one does; a cursor the server refuses (from
 * another order, or after the filter changed) falls back to the page number.
 */
export async function fetchRuns(state, query) {
  if (!state.after) return api.listRuns(query);
  try {
    return await api.listRuns({ ...query, offset: undefined, cursor: state.after });
  } catch (error) {
    if (error.status !== 422) throw error;
    return api.listRuns(query);
  }
}
