// Model records: a model's outputs as a table, filtered and paged by the server (GET /api/model_records
// with its total). The whole view is in the address, so it can be shared:
// #/models/<name>/records?experiment=…&season=…&site=…&dataset=…&since=…&until=…&run=…&version=…&size=…&page=…

import { api, recordFileUrl } from "../api.js";
import { h, errorBox, formatTime, shortId } from "../dom.js";
import { href, navigate } from "../router.js";
import { infoSummary } from "../widgets.js";
import { downloadWithToken } from "../artifacts.js";

export const RECORD_PAGE_SIZES = [25, 50, 100, 200];
const DEFAULT_SIZE = 50;
/** The filters by name: the key in the address, the query parameter, the label. */
const NAME_FILTERS = [
  { key: "experiment", param: "experiment_names", label: "Experiment" },
  { key: "season", param: "season_names", label: "Season" },
  { key: "site", param: "site_names", label: "Site" },
  { key: "dataset", param: "dataset_names", label: "Dataset" },
];
const FILTER_KEYS = [...NAME_FILTERS.map((filter) => filter.key), "since", "until", "run", "version"];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The address of a model's records table with these filters ({site: "Davis"}, {run: id}, {version: "m@2"}). */
export function recordsHref(modelName, filters = {}) {
  return href(`/models/${encodeURIComponent(modelName)}/records`, filters);
}

/** The view from the address's parameters. */
function viewState(params) {
  const state = {};
  for (const key of FILTER_KEYS) state[key] = (params.get(key) || "").trim();
  state.size = RECORD_PAGE_SIZES.includes(Number(params.get("size"))) ? Number(params.get("size")) : DEFAULT_SIZE;
  state.page = Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1);
  return state;
}

/** The address's parameters of a view (defaults left out, so links stay short). */
function stateParams(state) {
  const params = {};
  for (const key of FILTER_KEYS) params[key] = state[key];
  params.size = state.size === DEFAULT_SIZE ? "" : state.size;
  params.page = state.page > 1 ? state.page : "";
  return params;
}

/** The query of GET /api/model_records for a view, as {query}, or {error} when a date cannot be read. */
function recordsQuery(modelName, state) {
  for (const [key, label] of [["since", "Since"], ["until", "Until"]]) {
    if (state[key] && (!DATE.test(state[key]) || Number.isNaN(Date.parse(`${state[key]}T00:00:00Z`)))) {
      return { error: `${label} must be a date written YYYY-MM-DD, not "${state[key]}".` };
    }
  }
  if (state.since && state.until && state.until < state.since) {
    return { error: `The date range ends (${state.until}) before it starts (${state.since}).` };
  }
  const query = {
    model_names: modelName,
    limit: state.size,
    offset: (state.page - 1) * state.size,
    // Whole days in UTC, both ends included.
    start_timestamp: state.since ? `${state.since}T00:00:00Z` : undefined,
    end_timestamp: state.until ? `${state.until}T23:59:59.999999Z` : undefined,
    model_run_id: state.run || undefined,
    model_version: state.version || undefined,
  };
  for (const filter of NAME_FILTERS) query[filter.param] = state[filter.key] || undefined;
  return { query };
}

export async function renderRecords(container, { segments, params }) {
  const modelName = segments[1];
  const state = viewState(params);
  const go = (changes) => navigate(`/models/${encodeURIComponent(modelName)}/records`, stateParams({ ...state, page: 1, ...changes }));
  container.append(
    h(
      "p",
      { class: "breadcrumb" },
      h("a", { href: "#/models" }, "Models"),
      " › ",
      h("a", { href: href(`/models/${encodeURIComponent(modelName)}`) }, `Model ${modelName}`),
      " ›",
    ),
    h("h1", { tabindex: "-1" }, `Records of ${modelName}`),
  );
  try {
    await api.lookupModel(modelName);
  } catch (error) {
    container.replaceChildren(
      h("h1", { tabindex: "-1" }, "Model not found"),
      errorBox(error.message, " ", h("a", { href: "#/models" }, "Back to the models.")),
    );
    return;
  }
  container.append(filterForm(state, go));
  const scope = scopeLine(modelName, state);
  if (scope) container.append(scope);

  const { query, error } = recordsQuery(modelName, state);
  if (error) {
    container.append(errorBox(error));
    return;
  }
  let result;
  try {
    result = await api.listModelRecords(query);
  } catch (failure) {
    container.append(errorBox(`The records could not be read: ${failure.message}`));
    return;
  }
  const filtered = FILTER_KEYS.some((key) => state[key]);
  const bar = recordsPager(modelName, state, result.count, result.items.length);
  if (result.items.length === 0) {
    let message;
    if (result.count > 0) message = ["There are no records on this page. ", h("a", { href: recordsHref(modelName, stateParams({ ...state, page: 1 })) }, "Go to the first page.")];
    else if (filtered) message = ["No records of this model match these filters."];
    else message = ["This model has no records yet. Insert some with ", h("code", {}, `gemini records import FILE --model ${modelName}`), " or the Python API."];
    container.append(bar, h("p", { class: "empty", id: "records-empty" }, message));
    return;
  }
  container.append(bar, recordsTable(modelName, result.items), recordsPager(modelName, state, result.count, result.items.length));
}

/** The filters, as one form: applied together, and every change starts again at the first page. */
function filterForm(state, go) {
  const inputs = {};
  const field = (key, label, attrs = {}, hint = null) => {
    const id = `records-${key}`;
    const input = h("input", { id, name: key, type: "text", autocomplete: "off", "aria-describedby": hint ? `${id}-hint` : null, ...attrs });
    input.value = state[key];
    inputs[key] = input;
    return h(
      "div",
      { class: "field" },
      h("label", { for: id }, label),
      input,
      hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null,
    );
  };
  const size = h(
    "select",
    { id: "records-size" },
    RECORD_PAGE_SIZES.map((value) => h("option", { value, selected: value === state.size }, String(value))),
  );
  size.addEventListener("change", () => go({ size: Number(size.value) }));
  const read = () => Object.fromEntries(Object.entries(inputs).map(([key, input]) => [key, input.value.trim()]));
  const anyFilter = FILTER_KEYS.some((key) => state[key]);
  return h(
    "form",
    {
      class: "controls records-filters",
      role: "search",
      "aria-label": "Filter the records",
      onsubmit: (event) => {
        event.preventDefault();
        go(read());
      },
    },
    NAME_FILTERS.map((filter) => field(filter.key, filter.label)),
    field("since", "Since", { type: "date" }, "UTC day, included"),
    field("until", "Until", { type: "date" }, "UTC day, included"),
    field("run", "Run id", { class: "mono", size: 36, spellcheck: "false" }),
    field("version", "Version", { class: "mono", placeholder: "name@3 or name@production", spellcheck: "false" }),
    h(
      "div",
      { class: "field buttons" },
      h("button", { type: "submit", class: "primary" }, "Apply filters"),
      h(
        "button",
        { type: "button", disabled: !anyFilter, onclick: () => go(Object.fromEntries(FILTER_KEYS.map((key) => [key, ""]))) },
        "Clear filters",
      ),
    ),
    h("div", { class: "field" }, h("label", { for: "records-size" }, "Per page"), size),
  );
}

/** A sentence naming the run or version the records are limited to, with links to them. */
function scopeLine(modelName, state) {
  const parts = [];
  if (state.run) parts.push(["produced by run ", h("a", { href: href(`/runs/${encodeURIComponent(state.run)}`), class: "mono", title: state.run }, shortId(state.run))]);
  if (state.version) parts.push(["made with version ", versionLink(modelName, state.version)]);
  if (parts.length === 0) return null;
  return h("p", { id: "records-scope" }, "Only the records ", parts.flatMap((part, index) => (index ? [" and ", ...part] : part)), ".");
}

/** "name@3" as a link to that version on the model's page; an alias (name@production) to the page. */
function versionLink(modelName, reference) {
  const at = reference.lastIndexOf("@");
  const name = at > 0 ? reference.slice(0, at) : modelName;
  const tag = at > 0 ? reference.slice(at + 1) : "";
  const params = /^\d+$/.test(tag) ? { version: tag } : {};
  return h("a", { href: href(`/models/${encodeURIComponent(name)}`, params), class: "mono version-link" }, reference);
}

function recordsPager(modelName, state, count, shown) {
  const pages = Math.max(1, Math.ceil(count / state.size));
  const first = (state.page - 1) * state.size + 1;
  const last = (state.page - 1) * state.size + shown;
  const link = (label, page, enabled, rel) =>
    enabled
      ? h("a", { class: "button", href: recordsHref(modelName, stateParams({ ...state, page })), rel }, label)
      : h("span", { class: "button disabled", "aria-disabled": "true" }, label);
  let status;
  if (count === 0) status = "No records";
  else if (shown === 0) status = `No records on page ${state.page.toLocaleString()} of ${pages.toLocaleString()} (${count.toLocaleString()} in all)`;
  else status = `records ${first.toLocaleString()}–${last.toLocaleString()} of ${count.toLocaleString()}`;
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages of records" },
    link("« First", 1, state.page > 1),
    link("‹ Previous", Math.min(state.page - 1, pages), state.page > 1, "prev"),
    h("span", { class: "pager-status" }, status),
    count > 0 ? h("span", { class: "muted small" }, `page ${state.page.toLocaleString()} of ${pages.toLocaleString()}`) : null,
    link("Next ›", state.page + 1, state.page < pages, "next"),
    link("Last »", pages, state.page < pages),
  );
}

const missing = () => h("span", { class: "muted" }, "—");

function recordsTable(modelName, records) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data", id: "records-table" },
      h("caption", { class: "visually-hidden" }, `Records of ${modelName}, oldest first`),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Timestamp", "Collection date", "Dataset", "Experiment", "Season", "Site", "Model data", "File", "Run", "Version"].map(
            (label) => h("th", { scope: "col" }, label),
          ),
        ),
      ),
      h("tbody", {}, records.map((record) => recordRow(modelName, record))),
    ),
  );
}

function recordRow(modelName, record) {
  const text = (value) => (value === null || value === undefined || value === "" ? missing() : String(value));
  return h(
    "tr",
    { dataset: { recordId: record.id } },
    h("td", { class: "nowrap" }, formatTime(record.timestamp)),
    h("td", { class: "nowrap" }, text(record.collection_date)),
    h("td", { dataset: { col: "dataset" } }, text(record.dataset_name)),
    h("td", { dataset: { col: "experiment" } }, text(record.experiment_name)),
    h("td", { dataset: { col: "season" } }, text(record.season_name)),
    h("td", { dataset: { col: "site" } }, text(record.site_name)),
    h("td", { class: "model-data" }, infoSummary(record.model_data, 70)),
    h("td", { class: "mono" }, fileLink(record)),
    h(
      "td",
      { class: "mono" },
      record.model_run_id
        ? h("a", { href: href(`/runs/${encodeURIComponent(record.model_run_id)}`), title: record.model_run_id, class: "run-link" }, shortId(record.model_run_id))
        : missing(),
    ),
    h("td", {}, record.model_version ? versionLink(record.model_name || modelName, record.model_version) : missing()),
  );
}

function fileLink(record) {
  if (!record.record_file) return missing();
  const name = String(record.record_file).split("/").pop();
  const url = recordFileUrl(record.id);
  const size = typeof record.file_size === "number" ? `, ${record.file_size.toLocaleString()} bytes` : "";
  return h(
    "a",
    { href: url, download: name, title: `${record.record_file}${size}`, class: "file-link", onclick: (event) => downloadWithToken(event, url, name) },
    name,
  );
}
