// The Runs page's forms: the filter and page-size controls, the column chooser, and a new run.

import { api } from "../../api.js";
import { h, errorBox, notify, shortId } from "../../dom.js";
import { href, refresh } from "../../router.js";
import { jsonEditor } from "../../widgets.js";
import { PAGE_SIZES, go } from "./state.js";

let createRunOpen = false;

function modelOptions(models, selected, emptyLabel) {
  const options = [
    h("option", { value: "" }, emptyLabel),
    ...models.map((model) => h("option", { value: model.model_name, selected: model.model_name === selected }, model.model_name)),
  ];
  if (selected && !models.some((model) => model.model_name === selected)) {
    options.push(h("option", { value: selected, selected: true }, selected));
  }
  return options;
}

/** Model, filter and page size. */
export function controls(state, models) {
  const filterInput = h("input", {
    id: "runs-filter",
    type: "text",
    class: "mono",
    placeholder: '{"params": {"lr": 0.01}}  or  params.lr < 0.01',
    "aria-describedby": "runs-filter-hint",
  });
  filterInput.value = state.filter;
  const modelSelect = h("select", { id: "runs-model" }, modelOptions(models, state.model, "All models"));
  const sizeSelect = h(
    "select",
    { id: "runs-size" },
    PAGE_SIZES.map((size) => h("option", { value: size, selected: size === state.size }, String(size))),
  );
  modelSelect.addEventListener("change", () => go({ model: modelSelect.value }));
  sizeSelect.addEventListener("change", () => go({ size: Number(sizeSelect.value) }));
  return h(
    "form",
    {
      class: "controls",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        go({ filter: filterInput.value.trim() });
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
        "A JSON object the run's info must contain, or a search expression such as params.lr < 0.01 and metrics.map50 >= 0.8.",
      ),
    ),
    h(
      "div",
      { class: "field buttons" },
      h("button", { type: "submit", class: "primary" }, "Apply filter"),
      h("button", { type: "button", onclick: () => go({ filter: "" }), disabled: !state.filter }, "Clear"),
    ),
    h("div", { class: "field" }, h("label", { for: "runs-size" }, "Per page"), sizeSelect),
  );
}

/** Record a run, of the selected model or of none. */
export function createRunForm(state, models) {
  const modelSelect = h("select", { id: "new-run-model" }, modelOptions(models, state.model, "(no model)"));
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
          const { data: run, status: code } = await api.createRun(body);
          const link = h("a", { href: href(`/runs/${run.id}`) }, shortId(run.id));
          notify(
            code === 201
              ? h("span", {}, "Run ", link, " recorded.")
              : h("span", {}, "Run ", link, " already has this info; nothing new was recorded."),
            code === 201 ? "ok" : "warn",
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

/** Which info keys are columns: those seen on this page, and any typed in. */
export function columnChooser(state, columns, seenKeys) {
  const keys = [...new Set([...columns, ...seenKeys])];
  const chosen = new Set(columns);
  const list = h("fieldset", { class: "column-list" }, h("legend", {}, "Info keys shown as columns"));
  keys.forEach((key, index) => {
    const id = `col-${index}`;
    const box = h("input", { type: "checkbox", id, checked: chosen.has(key), value: key });
    box.addEventListener("change", () => {
      const next = keys.filter((k) => (k === key ? box.checked : chosen.has(k)));
      go({ cols: next, page: state.page });
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
        if (key && !chosen.has(key)) go({ cols: [...columns, key], page: state.page });
      },
    },
    h("label", { for: "col-add" }, "Add a key not on this page"),
    extra,
    h("button", { type: "submit" }, "Add column"),
  );
  return h("details", { class: "columns" }, h("summary", {}, `Columns (${columns.length} of ${keys.length} keys)…`), list, add);
}
