// The Runs page's view state, all of it in the URL (#/runs?model=…&filter=…&sort=…&cols=…&page=…&after=…),
// so that a link opens the same view.

import { currentRoute, navigate } from "../../router.js";

export const PAGE_SIZES = [25, 50, 100, 200];
const DEFAULT_SIZE = 50;
export const BUILTIN_SORTS = { created_at: "Created", "model.name": "Model" };

/** The view state from the URL parameters. */
export function viewState(params) {
  const size = PAGE_SIZES.includes(Number(params.get("size"))) ? Number(params.get("size")) : DEFAULT_SIZE;
  return {
    model: params.get("model") || "",
    filter: params.get("filter") || "",
    sort: params.get("sort") || "",
    cols: params.has("cols") ? params.get("cols").split(",").filter(Boolean) : null,
    // null: the page's main metrics (pages/runs/metrics.js); an empty list: none.
    metrics: params.has("metrics") ? params.get("metrics").split(",").filter(Boolean) : null,
    page: Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1),
    size,
    after: params.get("after") || "",
  };
}

/** The URL parameters of a state (defaults left out so links stay short). */
export function stateParams(state) {
  return {
    model: state.model,
    filter: state.filter,
    sort: state.sort,
    cols: state.cols === null ? "" : state.cols.join(",") || ",",
    metrics: state.metrics === null ? "" : state.metrics.join(",") || ",",
    size: state.size === DEFAULT_SIZE ? "" : state.size,
    page: state.page > 1 ? state.page : "",
    after: state.page > 1 ? state.after : "",
  };
}

/** Change the view: applied to the URL as it is now, so quick successive changes all stick. Any change
 * but a page change starts again at the first page. */
export function go(changes) {
  const next = { ...viewState(currentRoute().params), ...changes };
  if (!("page" in changes)) {
    next.page = 1;
    next.after = "";
  }
  navigate("/runs", stateParams(next));
}
