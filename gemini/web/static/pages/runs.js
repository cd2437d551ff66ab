// Runs: a table whose columns are flattened info keys chosen by the user, with sort, containment
// filter and server-side pages. Every choice lives in the URL (#/runs?model=…&filter=…&sort=…&cols=…&page=…).

import { api, capabilities } from "../api.js";
import { h, errorBox, notify, formatTime, formatValue, shortId } from "../dom.js";
import { flatten, unionKeys, parseInfo, compareValues, isNumber } from "../info.js";
import { currentRoute, href, navigate, refresh } from "../router.js";
import { pager, jsonEditor } from "../widgets.js";
import { selectedRuns, toggleRun, setSelectedRuns, MAX_COMPARE, MIN_COMPARE } from "../selection.js";

let createRunOpen = false;

const PAGE_SIZES = [25, 50, 100, 200];
const DEFAULT_SIZE = 50;
const DEFAULT_COLUMNS = 6;
const BUILTIN_SORTS = { created_at: "Created", "model.name": "Model" };

/** An order_by term for the server: info keys that are not plain names are backquoted, as the search
 * language wants; the page's own "created_at" and "model.name" columns are the fields of those names. */
export function orderByParam(sort) {
  const descending = sort.startsWith("-");
  const key = descending ? sort.slice(1) : sort;
  if (key in BUILTIN_SORTS) return sort;
  const parts = key.split(".").map((part, index) => {
    const reserved = index === 0 && ["created_at", "updated_at", "model"].includes(part);
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(part) && !reserved ? part : `\`${part.replaceAll("`", "``")}\``;
  });
  return `${descending ? "-" : ""}${parts.join(".")}`;
}

function valueRank(value) {
  return isNumber(value) ? 0 : typeof value === "string" ? 1 : 2;
}

/** The view state from the URL. */
function viewState(params) {
  const size = PAGE_SIZES.includes(Number(params.get("size"))) ? Number(params.get("size")) : DEFAULT_SIZE;
  return {
    model: params.get("model") || "",
    filter: params.get("filter") || "",
    sort: params.get("sort") || "",
    cols: params.has("cols") ? params.get("cols").split(",").filter(Boolean) : null,
    page: Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1),
    size,
    after: params.get("after") || "",
  };
}

/** The URL parameters of a state (defaults left out so links stay short). */
function stateParams(state) {
  return {
    model: state.model,
    filter: state.filter,
    sort: state.sort,
    cols: state.cols === null ? "" : state.cols.join(",") || ",",
    size: state.size === DEFAULT_SIZE ? "" : state.size,
    page: state.page > 1 ? state.page : "",
    after: state.page > 1 ? state.after : "",
  };
}

/** Change the view: applied to the URL as it is now, so quick successive changes all stick. */
function go(_state, changes) {
  const next = { ...viewState(currentRoute().params), ...changes };
  if (!("page" in changes)) {
    next.page = 1;
    next.after = "";
  }
  navigate("/runs", stateParams(next));
}

export async function renderRuns(container, { params }) {
  const state = viewState(params);
  const caps = await capabilities();
  const modelsPage = await api.listModels({ limit: 1000 });
  const modelNames = new Map(modelsPage.items.map((model) => [model.id, model.model_name]));

  container.append(
    h("h1", { tabindex: "-1" }, state.model ? `Runs of ${state.model}` : "Runs"),
    controls(state, caps, modelsPage.items),
    createRunForm(state, modelsPage.items),
  );

  // The filter: a JSON object is a containment pattern; other text is a search expression if the server has one.
  const query = { limit: state.size, offset: (state.page - 1) * state.size, model_name: state.model || undefined };
  const filterText = state.filter.trim();
  if (filterText) {
    if (filterText.startsWith("{") || !caps.where) {
      const parsed = parseInfo(filterText, { allowEmpty: false, what: "The filter" });
      if (parsed.error) {
        container.append(errorBox(parsed.error, caps.where ? "" : ' Type a JSON object, e.g. {"params": {"lr": 0.01}}.'));
        return;
      }
      query.model_run_info = JSON.stringify(parsed.value);
    } else {
      query.where = filterText;
    }
  }
  const serverSort = Boolean(state.sort) && caps.orderBy;
  if (serverSort) query.order_by = orderByParam(state.sort);

  // "Next" links carry the server's cursor (after=…), so a deep page costs what the first one does.
  const byCursor = Boolean(state.after) && caps.cursor;
  let result;
  try {
    result = await api.listRuns(byCursor ? { ...query, offset: undefined, cursor: state.after } : query);
  } catch (error) {
    if (!byCursor || error.status !== 422) {
      container.append(errorBox(error.message));
      return;
    }
    // A cursor from another order or a changed filter is refused: the page number still says where to go.
    try {
      result = await api.listRuns(query);
    } catch (retryError) {
      container.append(errorBox(retryError.message));
      return;
    }
  }
  const runs = result.items;
  const rowsInfo = runs.map((run) => flatten(run.model_run_info));
  const seenKeys = unionKeys(runs.map((run) => run.model_run_info));
  const columns = state.cols === null ? seenKeys.slice(0, DEFAULT_COLUMNS) : state.cols;

  if (state.sort && !serverSort) {
    const descending = state.sort.startsWith("-");
    const key = descending ? state.sort.slice(1) : state.sort;
    const valueOf = (run, index) =>
      key === "created_at" ? run.created_at : key === "model.name" ? modelNames.get(run.model_id) : rowsInfo[index].get(key);
    const order = runs.map((run, index) => ({ run, info: rowsInfo[index], value: valueOf(run, index) }));
    // As the server orders: numbers, then strings, then everything else; descending reverses within each.
    order.sort((a, b) => {
      const rankA = valueRank(a.value);
      const rankB = valueRank(b.value);
      if (rankA !== rankB) return rankA - rankB;
      const c = rankA === 2 ? 0 : compareValues(a.value, b.value);
      return descending ? -c : c;
    });
    runs.splice(0, runs.length, ...order.map((o) => o.run));
    rowsInfo.splice(0, rowsInfo.length, ...order.map((o) => o.info));
  }

  container.append(columnChooser(state, columns, seenKeys), compareBar());
  if (state.sort && !serverSort) {
    container.append(
      h("p", { class: "hint", id: "sort-scope" }, "Sorted within this page: this server lists runs in creation order and sorts pages one at a time."),
    );
  }
  if (runs.length === 0) {
    container.append(h("p", { class: "empty", id: "runs-empty" }, filterText ? "No runs match this filter." : "No runs here yet."));
  } else {
    container.append(runsTable(state, runs, rowsInfo, columns, modelNames));
  }
  container.append(
    pager({
      path: "/runs",
      params: { ...stateParams(state), after: "" }, // only the Next link carries a cursor
      page: state.page,
      size: state.size,
      count: result.count,
      hasNext: runs.length === state.size,
      shown: runs.length,
      nextExtra: caps.cursor && result.nextCursor ? { after: result.nextCursor } : {},
    }),
  );
}

function controls(state, caps, models) {
  const filterInput = h("input", {
    id: "runs-filter",
    type: "text",
    class: "mono",
    placeholder: caps.where ? '{"params": {"lr": 0.01}}  or  params.lr < 0.01' : '{"params": {"lr": 0.01}}',
    "aria-describedby": "runs-filter-hint",
  });
  filterInput.value = state.filter;
  const modelSelect = h(
    "select",
    { id: "runs-model" },
    h("option", { value: "" }, "All models"),
    models.map((model) => h("option", { value: model.model_name, selected: model.model_name === state.model }, model.model_name)),
  );
  if (state.model && !models.some((model) => model.model_name === state.model)) {
    modelSelect.append(h("option", { value: state.model, selected: true }, state.model));
  }
  const sizeSelect = h(
    "select",
    { id: "runs-size" },
    PAGE_SIZES.map((size) => h("option", { value: size, selected: size === state.size }, String(size))),
  );
  modelSelect.addEventListener("change", () => go(state, { model: modelSelect.value }));
  sizeSelect.addEventListener("change", () => go(state, { size: Number(sizeSelect.value) }));
  return h(
    "form",
    {
      class: "controls",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        go(state, { filter: filterInput.value.trim() });
      },
    },
    h("div", { class: "field" }, h("label", { for: "runs-model" }, "Model"), modelSelect),
    h(
      "div",
      { class: "field grow" },
      h("label", { for: "runs-filter" }, "Filter"),
      filterInput,
      h(
        "p",
        { id: "runs-filter-hint", class: "hint" },
        "A JSON object the run's info must contain",
        caps.where ? ", or a search expression such as params.lr < 0.01 and metrics.map50 >= 0.8" : "",
        ".",
      ),
    ),
    h(
      "div",
      { class: "field buttons" },
      h("button", { type: "submit", class: "primary" }, "Apply filter"),
      h("button", { type: "button", onclick: () => go(state, { filter: "" }), disabled: !state.filter }, "Clear"),
    ),
    h("div", { class: "field" }, h("label", { for: "runs-size" }, "Per page"), sizeSelect),
  );
}

function createRunForm(state, models) {
  const modelSelect = h(
    "select",
    { id: "new-run-model" },
    h("option", { value: "" }, "(no model)"),
    models.map((model) => h("option", { value: model.model_name, selected: model.model_name === state.model }, model.model_name)),
  );
  const info = jsonEditor({
    id: "new-run-info",
    label: "Info (JSON object)",
    value: "{}",
    rows: 6,
    hint: 'For example {"params": {"lr": 0.01}, "metrics": {"map50": 0.8}}',
  });
  const status = h("div", { class: "form-status" });
  const form = h(
    "form",
    {
      class: "card",
      "aria-labelledby": "new-run-title",
      onsubmit: async (event) => {
        event.preventDefault();
        status.replaceChildren();
        const value = info.read();
        if (value === null) return;
        const body = { model_run_info: value };
        if (modelSelect.value) body.model_name = modelSelect.value;
        try {
          const { data: run, status } = await api.createRun(body);
          const link = h("a", { href: href(`/runs/${run.id}`) }, shortId(run.id));
          notify(
            status === 201
              ? h("span", {}, "Run ", link, " recorded.")
              : h("span", {}, "Run ", link, " already has this info; nothing new was recorded."),
            status === 201 ? "ok" : "warn",
          );
          await refresh();
        } catch (error) {
          status.append(errorBox(error.message));
        }
      },
    },
    h("h2", { id: "new-run-title" }, "New run"),
    h("div", { class: "field" }, h("label", { for: "new-run-model" }, "Model"), modelSelect),
    info.element,
    status,
    h("button", { type: "submit", class: "primary" }, "Record run"),
  );
  const details = h("details", { class: "create", open: createRunOpen }, h("summary", {}, "New run…"), form);
  // Stays open after a save, so several entries can be made in a row.
  details.addEventListener("toggle", () => {
    createRunOpen = details.open;
  });
  return details;
}

function columnChooser(state, columns, seenKeys) {
  const keys = [...new Set([...columns, ...seenKeys])];
  const chosen = new Set(columns);
  const list = h("fieldset", { class: "column-list" }, h("legend", {}, "Info keys shown as columns"));
  keys.forEach((key, index) => {
    const id = `col-${index}`;
    const box = h("input", { type: "checkbox", id, checked: chosen.has(key), value: key });
    box.addEventListener("change", () => {
      const next = keys.filter((k) => (k === key ? box.checked : chosen.has(k)));
      go(state, { cols: next, page: state.page });
    });
    list.append(h("div", { class: "check" }, box, h("label", { for: id }, key)));
  });
  if (keys.length === 0) list.append(h("p", { class: "muted" }, "The runs on this page have no info keys."));
  const extra = h("input", { id: "col-add", type: "text", class: "mono", placeholder: "metrics.map50" });
  const add = h(
    "form",
    {
      class: "inline",
      onsubmit: (event) => {
        event.preventDefault();
        const key = extra.value.trim();
        if (key && !chosen.has(key)) go(state, { cols: [...columns, key], page: state.page });
      },
    },
    h("label", { for: "col-add" }, "Add a key not on this page"),
    extra,
    h("button", { type: "submit" }, "Add column"),
  );
  return h("details", { class: "columns" }, h("summary", {}, `Columns (${columns.length} of ${keys.length} keys)…`), list, add);
}

function compareBar() {
  const count = selectedRuns().length;
  const status = h("span", { id: "compare-count", "aria-live": "polite" }, `${count} selected for comparison`);
  const ready = count >= MIN_COMPARE;
  const link = ready
    ? h("a", { class: "button primary", id: "compare-link", href: href("/compare", { ids: selectedRuns().join(",") }) }, "Compare selected")
    : h("span", { class: "button disabled", id: "compare-link", "aria-disabled": "true" }, "Compare selected");
  const bar = h(
    "div",
    { class: "compare-bar" },
    status,
    link,
    h("button", { type: "button", disabled: count === 0, onclick: () => { setSelectedRuns([]); refresh(); } }, "Clear selection"),
    h("span", { class: "hint" }, ` Pick ${MIN_COMPARE} to ${MAX_COMPARE} runs, on any page.`),
  );
  return bar;
}

function sortHeader(state, key, label, numeric = false) {
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
      {
        type: "button",
        class: "sort",
        title: `Sort by ${label}`,
        onclick: () => go(state, { sort: next }),
      },
      label,
      h("span", { "aria-hidden": "true", class: ascending || descending ? "sort-mark" : "sort-mark idle" }, arrow),
    ),
  );
}

function runsTable(state, runs, rowsInfo, columns, modelNames) {
  const selected = new Set(selectedRuns());
  const head = h(
    "tr",
    {},
    h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Compare")),
    h("th", { scope: "col" }, "Run"),
    sortHeader(state, "model.name", BUILTIN_SORTS["model.name"]),
    sortHeader(state, "created_at", BUILTIN_SORTS.created_at),
    columns.map((key) => sortHeader(state, key, key, rowsInfo.some((info) => isNumber(info.get(key))))),
  );
  const body = h("tbody");
  runs.forEach((run, index) => {
    const info = rowsInfo[index];
    const box = h("input", {
      type: "checkbox",
      id: `pick-${run.id}`,
      checked: selected.has(String(run.id)),
      "aria-label": `Select run ${shortId(run.id)} for comparison`,
    });
    box.addEventListener("change", () => {
      if (!toggleRun(String(run.id), box.checked)) {
        box.checked = false;
        notify(`At most ${MAX_COMPARE} runs can be compared at once.`, "error");
      }
      const bar = document.querySelector(".compare-bar");
      bar?.replaceWith(compareBar());
    });
    body.append(
      h(
        "tr",
        { dataset: { runId: run.id } },
        h("td", {}, box),
        h("th", { scope: "row" }, h("a", { href: href(`/runs/${run.id}`), class: "mono", title: run.id }, shortId(run.id))),
        h("td", {}, run.model_id ? modelNames.get(run.model_id) || shortId(run.model_id) : h("span", { class: "muted" }, "—")),
        h("td", {}, formatTime(run.created_at)),
        columns.map((key) => {
          const value = info.get(key);
          const text = formatValue(value);
          return h("td", { class: isNumber(value) ? "num" : "", dataset: { key }, title: text.length > 40 ? text : null }, text);
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
