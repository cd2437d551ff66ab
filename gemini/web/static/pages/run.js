// Run: its name (renamed in place), status, metric charts and artifacts (tracking.js), its info as a
// collapsible tree, its model (change or remove), timestamps, the model records it produced (a count
// linked to them), JSON edit, delete.

import { api } from "../api.js";
import { h, errorBox, notify, notifyAfterNavigation, confirmDialog, formatTime, runLabel, shortId } from "../dom.js";
import { href, navigate, refresh } from "../router.js";
import { jsonEditor } from "../widgets.js";
import { selectedRuns, toggleRun, MAX_COMPARE } from "../selection.js";
import { trackingPanel } from "../tracking.js";
import { recordsHref } from "./records.js";

export async function renderRun(container, context) {
  const { segments } = context;
  const id = segments[1];
  let run;
  try {
    run = await api.getRun(id);
  } catch (error) {
    container.append(
      h("h1", { tabindex: "-1" }, "Model run not found"),
      errorBox(error.message, " ", h("a", { href: "#/runs" }, "Back to the runs.")),
    );
    return;
  }
  // The run carries its model's name; the list of models is for the select that moves the run.
  const model = run.model_id ? { id: run.model_id, model_name: run.model_name } : null;
  const [models, records] = await Promise.all([
    api.listModels({ limit: 1000 }).then((page) => page.items),
    // One record is read with the count: its model names the table that holds the run's records.
    api.listModelRecords({ model_run_id: run.id, limit: 1 }).then(
      (page) => ({ count: page.count, modelName: page.items[0]?.model_name }),
      (error) => ({ error: error.message }),
    ),
  ]);

  container.append(
    h("p", { class: "breadcrumb" }, h("a", { href: href("/runs", { model: model?.model_name }) }, model ? `Runs of ${model.model_name}` : "All runs"), " ›"),
    h("h1", { tabindex: "-1" }, run.run_name || `Model run ${shortId(run.id)}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Name"),
      nameFact(run),
      h("dt", {}, "Id"),
      h("dd", { class: "mono", id: "run-id" }, run.id),
      h("dt", {}, "Model"),
      h("dd", { id: "run-model" }, model ? h("a", { href: href("/runs", { model: model.model_name }) }, model.model_name) : h("span", { class: "muted" }, "none")),
      h("dt", {}, "Created"),
      h("dd", {}, formatTime(run.created_at)),
      h("dt", {}, "Created by"),
      h("dd", { id: "run-created-by" }, run.created_by ? run.created_by : h("span", { class: "muted" }, "unknown")),
      h("dt", {}, "Updated"),
      h("dd", {}, formatTime(run.updated_at)),
      h("dt", {}, "Model records produced"),
      h("dd", { id: "run-records" }, recordsProduced(run, model, records)),
    ),
    actions(run, model),
    await trackingHolder(run, context),
    h("section", { "aria-labelledby": "info-title" }, h("h2", { id: "info-title" }, "Info"), infoTree(run.model_run_info)),
    editSection(run),
    modelSection(run, model, models),
  );
}

/** The run's name, and a form in its place to change it (Enter saves; Escape or Cancel leaves it). */
function nameFact(run) {
  const holder = h("dd", { id: "run-name" });
  const show = () =>
    holder.replaceChildren(
      run.run_name ? h("span", { class: "run-name" }, run.run_name) : h("span", { class: "muted" }, "none"),
      " ",
      h("button", { type: "button", class: "small-button", id: "rename-run", onclick: () => edit() }, run.run_name ? "Rename" : "Name it"),
    );
  const edit = () => {
    const input = h("input", { type: "text", id: "run-name-input", class: "mono", placeholder: "train2", autocomplete: "off" });
    input.value = run.run_name ?? "";
    const status = h("div", { class: "form-status" });
    const cancel = () => {
      show();
      holder.querySelector("#rename-run")?.focus();
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        cancel();
      }
    });
    const form = h(
      "form",
      {
        class: "inline rename",
        onsubmit: async (event) => {
          event.preventDefault();
          status.replaceChildren();
          const name = input.value.trim();
          try {
            await api.renameRun(run.id, name || null);
            notify(name ? `The run is now named ${name}.` : "The run's name is removed.");
            await refresh();
          } catch (error) {
            status.append(errorBox(error.message));
          }
        },
      },
      h("label", { for: "run-name-input", class: "visually-hidden" }, "Run name"),
      input,
      h("button", { type: "submit", class: "primary small-button" }, "Save name"),
      h("button", { type: "button", class: "small-button", onclick: cancel }, "Cancel"),
      h("span", { class: "hint" }, "Empty removes the name."),
      status,
    );
    holder.replaceChildren(form);
    input.focus();
    input.select();
  };
  show();
  return holder;
}

/** The number of model records the run produced, linked to them in its model's records table. */
function recordsProduced(run, model, records) {
  if (records.error) return h("span", { class: "muted", title: records.error }, "could not be read");
  const text = records.count.toLocaleString();
  // A record's run is a run of the record's model (checked when it is inserted), so that model's table
  // holds them all, even when the run has moved to another model since.
  const modelName = records.modelName ?? model?.model_name;
  if (!modelName) return text;
  return h("a", { href: recordsHref(modelName, { run: run.id }), class: "records-link", title: `The records run ${runLabel(run)} produced` }, text);
}

/** The tracking panel, or the reason it could not be read: the rest of the page stays usable either way. */
async function trackingHolder(run, context) {
  const holder = h("div", { id: "run-tracking-panel" });
  try {
    await trackingPanel(holder, run, context);
  } catch (error) {
    holder.replaceChildren(errorBox(`The run's metrics and artifacts could not be read: ${error.message}`));
  }
  return holder;
}

function actions(run, model) {
  const inSelection = selectedRuns().includes(String(run.id));
  return h(
    "div",
    { class: "toolbar" },
    h(
      "button",
      {
        type: "button",
        "aria-pressed": inSelection ? "true" : "false",
        onclick: () => {
          if (!toggleRun(String(run.id), !inSelection)) notify(`At most ${MAX_COMPARE} runs can be compared at once.`, "error");
          refresh();
        },
      },
      inSelection ? "Remove from comparison" : "Add to comparison",
    ),
    h("a", { class: "button", href: href("/compare", { ids: selectedRuns().join(",") }) }, `Compare (${selectedRuns().length})`),
    h(
      "button",
      {
        type: "button",
        class: "danger",
        onclick: async () => {
          const ok = await confirmDialog({
            title: `Delete model run ${runLabel(run)}?`,
            message: "The run and its info are deleted. It cannot be undone.",
            confirmLabel: "Delete run",
          });
          if (!ok) return;
          try {
            await api.deleteRun(run.id);
            toggleRun(String(run.id), false);
            notifyAfterNavigation(`Model run ${runLabel(run)} deleted.`);
            navigate("/runs", { model: model?.model_name });
          } catch (error) {
            notify(error.message, "error");
          }
        },
      },
      "Delete run",
    ),
  );
}

/** A JSON value as nested <details> (open at the top two levels) with typed leaves. */
export function infoTree(info) {
  const root = h("div", { class: "tree", id: "info-tree" });
  const keys = Object.keys(info || {});
  if (keys.length === 0) {
    root.append(h("p", { class: "muted" }, "This run's info is empty."));
    return root;
  }
  const expandAll = (open) => root.querySelectorAll("details").forEach((d) => (d.open = open));
  root.append(
    h(
      "div",
      { class: "toolbar small" },
      h("button", { type: "button", onclick: () => expandAll(true) }, "Expand all"),
      h("button", { type: "button", onclick: () => expandAll(false) }, "Collapse all"),
    ),
    branch(info, 0),
  );
  return root;
}

function branch(value, depth) {
  const list = h("ul", { role: depth === 0 ? "list" : null });
  const entries = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
  for (const [key, item] of entries) {
    if (item && typeof item === "object" && Object.keys(item).length > 0) {
      const size = Array.isArray(item) ? `[${item.length} item${item.length === 1 ? "" : "s"}]` : `{${Object.keys(item).length} key${Object.keys(item).length === 1 ? "" : "s"}}`;
      list.append(
        h(
          "li",
          {},
          h(
            "details",
            { open: depth < 2 },
            h("summary", {}, h("span", { class: "key" }, String(key)), " ", h("span", { class: "muted" }, size)),
            branch(item, depth + 1),
          ),
        ),
      );
    } else {
      list.append(h("li", { class: "leaf" }, h("span", { class: "key" }, String(key)), ": ", leaf(item)));
    }
  }
  return list;
}

function leaf(value) {
  if (value === null) return h("span", { class: "v-null" }, "null");
  if (typeof value === "string") return h("span", { class: "v-string" }, JSON.stringify(value));
  if (typeof value === "number") return h("span", { class: "v-number" }, String(value));
  if (typeof value === "boolean") return h("span", { class: "v-bool" }, String(value));
  return h("span", { class: "v-empty" }, JSON.stringify(value));
}

function editSection(run) {
  const editor = jsonEditor({
    id: "edit-info",
    label: "Info as JSON",
    value: run.model_run_info,
    rows: Math.min(24, Math.max(6, JSON.stringify(run.model_run_info, null, 2).split("\n").length + 1)),
    hint: "The whole info is replaced by this object. It is checked before it is sent.",
  });
  const status = h("div", { class: "form-status", id: "edit-status" });
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        status.replaceChildren();
        const value = editor.read();
        if (value === null) return;
        try {
          await api.replaceRunInfo(run.id, value);
          notify("Info saved.");
          await refresh();
        } catch (error) {
          status.append(errorBox(error.message));
        }
      },
    },
    editor.element,
    status,
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          onclick: () => {
            editor.textarea.value = JSON.stringify(run.model_run_info, null, 2);
            editor.showError("");
            editor.textarea.setAttribute("aria-invalid", "false");
          },
        },
        "Undo changes",
      ),
      h("button", { type: "submit", class: "primary", id: "save-info" }, "Save info"),
    ),
  );
  return h("section", { "aria-labelledby": "edit-title" }, h("details", { class: "edit" }, h("summary", { id: "edit-title" }, "Edit info"), form));
}

function modelSection(run, model, models) {
  const select = h(
    "select",
    { id: "run-model-select" },
    models.map((m) => h("option", { value: m.model_name, selected: m.id === run.model_id }, m.model_name)),
  );
  const status = h("div", { class: "form-status" });
  const form = h(
    "form",
    {
      class: "inline",
      onsubmit: async (event) => {
        event.preventDefault();
        status.replaceChildren();
        if (!select.value) return;
        try {
          await api.associateRun(run.id, select.value);
          notify(`The run now belongs to ${select.value}.`);
          await refresh();
        } catch (error) {
          status.append(errorBox(error.message));
        }
      },
    },
    h("label", { for: "run-model-select" }, model ? "Move to model" : "Add to model"),
    select,
    h("button", { type: "submit", disabled: models.length === 0 }, model ? "Move" : "Add"),
  );
  const remove = model
    ? h(
        "button",
        {
          type: "button",
          onclick: async () => {
            status.replaceChildren();
            try {
              await api.unassociateRun(run.id);
              notify(`The run no longer belongs to ${model.model_name}.`);
              await refresh();
            } catch (error) {
              status.append(errorBox(error.message));
            }
          },
        },
        `Remove from ${model.model_name}`,
      )
    : null;
  return h(
    "section",
    { "aria-labelledby": "model-title" },
    h("h2", { id: "model-title" }, "Model"),
    models.length === 0 ? h("p", { class: "muted" }, "There are no models yet.") : form,
    remove ? h("p", {}, remove) : null,
    status,
  );
}
