// Hash routing: the whole view state (page, filter, sort, columns, page number) lives in the URL,
// so a view can be shared as a link.

let renderer = () => {};

/** Set the function that draws the current route (called once by app.js). */
export function setRenderer(fn) {
  renderer = fn;
}

/** The current route: {page, segments, params} from "#/runs/abc?x=1". */
export function currentRoute() {
  const raw = window.location.hash.replace(/^#/, "") || "/models";
  const [path, search = ""] = raw.split("?", 2);
  const segments = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { page: segments[0] || "models", segments, params: new URLSearchParams(search) };
}

/** Build "#/page?…" from a path and parameters (empty values are left out). */
export function href(path, params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const query = search.toString();
  return `#${path}${query ? `?${query}` : ""}`;
}

/** Go to a route (a new history entry, so Back returns to the previous view). */
export function navigate(path, params = {}) {
  const target = href(path, params);
  if (target === window.location.hash) renderer();
  else window.location.hash = target;
}

/** Draw the current route again in place (after a write). */
export function refresh() {
  return renderer();
}

/**
 * Change parameters of the address without drawing the page again or adding a history entry: for a
 * choice the page applies itself (a chart's x axis), so that a link or a reload keeps it.
 */
export function replaceParams(changes) {
  const raw = window.location.hash.replace(/^#/, "") || "/models";
  const [path, search = ""] = raw.split("?", 2);
  const params = new URLSearchParams(search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === null || value === "") params.delete(key);
    else params.set(key, String(value));
  }
  const query = params.toString();
  history.replaceState(history.state, "", `#${path}${query ? `?${query}` : ""}`);
}
