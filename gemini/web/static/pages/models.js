// Models: every model with its URL, info summary, run count and last run, a link to its page (its
// versions); create, edit, delete.

import { api } from "../api.js";
import { h, errorBox, notify, confirmDialog, formatTime } from "../dom.js";
import { href, refresh } from "../router.js";
import { pager, infoSummary, jsonEditor, textField } from "../widgets.js";

let createModelOpen = false;

const PAGE_SIZE = 50;

export async function renderModels(container, { params }) {
  const page = Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1);
  const { items: models, count } = await api.listModels({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });

  container.append(
    h("h1", { tabindex: "-1" }, "Models"),
    h("p", { class: "lead" }, "A model groups the runs recorded for it. Open a model's runs to filter, sort and compare them."),
    createForm(),
  );

  if (models.length === 0) {
    container.append(h("p", { class: "empty" }, page > 1 ? "No models on this page." : "No models yet. Create the first one above."));
  } else {
    container.append(modelsTable(models));
  }
  if (count > PAGE_SIZE || page > 1) {
    container.append(
      pager({ path: "/models", params: {}, page, size: PAGE_SIZE, count, shown: models.length }),
    );
  }
}

/** The model form's values, trimmed; `null`, with the reason shown in `status`, when they are not valid. */
function readModelFields({ name, url, info, status }) {
  status.replaceChildren();
  const modelInfo = info.read();
  if (modelInfo === null) return null;
  const modelName = name.input.value.trim();
  if (!modelName) {
    status.append(errorBox("The model needs a name."));
    name.input.focus();
    return null;
  }
  return { model_name: modelName, model_url: url.input.value.trim(), model_info: modelInfo };
}

function createForm() {
  const name = textField({ id: "new-model-name", label: "Name", required: true, placeholder: "stand-counter" });
  const url = textField({ id: "new-model-url", label: "URL", type: "url", placeholder: "https://…" });
  const info = jsonEditor({ id: "new-model-info", label: "Info (JSON object)", value: "{}", rows: 4 });
  const status = h("div", { class: "form-status" });
  const form = h(
    "form",
    {
      class: "card",
      "aria-labelledby": "new-model-title",
      onsubmit: async (event) => {
        event.preventDefault();
        const fields = readModelFields({ name, url, info, status });
        if (fields === null) return;
        const body = { model_name: fields.model_name, model_info: fields.model_info };
        if (fields.model_url) body.model_url = fields.model_url;
        try {
          const { data: model, status } = await api.createModel(body);
          notify(
            status === 201
              ? `Model "${model.model_name}" created.`
              : `A model named "${model.model_name}" already exists; it was left unchanged.`,
            status === 201 ? "ok" : "warn",
          );
          await refresh();
        } catch (error) {
          status.append(errorBox(error.message));
        }
      },
    },
    h("h2", { id: "new-model-title" }, "New model"),
    h("div", { class: "row" }, name.element, url.element),
    info.element,
    status,
    h("button", { type: "submit", class: "primary" }, "Create model"),
  );
  const details = h("details", { class: "create", open: createModelOpen }, h("summary", {}, "New model…"), form);
  // Stays open after a save, so several entries can be made in a row.
  details.addEventListener("toggle", () => {
    createModelOpen = details.open;
  });
  return details;
}

function modelsTable(models) {
  const body = h("tbody");
  for (const model of models) {
    // The list carries each model's run count and last run time.
    const runsCell = h("td", { class: "num" }, h("a", { href: href("/runs", { model: model.model_name }) }, model.run_count.toLocaleString()));
    const lastCell = h("td", {}, model.last_run_at ? formatTime(model.last_run_at) : h("span", { class: "muted" }, "never"));
    body.append(
      h(
        "tr",
        { dataset: { modelId: model.id } },
        h("th", { scope: "row" }, h("a", { href: href("/runs", { model: model.model_name }) }, model.model_name)),
        h("td", { class: "url" }, modelLink(model.model_url)),
        h("td", {}, infoSummary(model.model_info, 70)),
        runsCell,
        lastCell,
        // The model's page: its versions with their aliases (the name itself opens its runs).
        h("td", {}, h("a", { href: href(`/models/${encodeURIComponent(model.model_name)}`), class: "model-page-link" }, "Versions")),
        h("td", {}, formatTime(model.created_at)),
        h(
          "td",
          { class: "actions" },
          h("button", { type: "button", onclick: () => editModel(model), "aria-label": `Edit model ${model.model_name}` }, "Edit"),
          h(
            "button",
            { type: "button", class: "danger", onclick: () => deleteModel(model), "aria-label": `Delete model ${model.model_name}` },
            "Delete",
          ),
        ),
      ),
    );
  }
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data", id: "models-table" },
      h("caption", { class: "visually-hidden" }, "Models"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Name", "URL", "Info", "Runs", "Last run", "Model page", "Created", "Actions"].map((label) => h("th", { scope: "col" }, label)),
        ),
      ),
      body,
    ),
  );
}

function modelLink(url) {
  if (!url) return h("span", { class: "muted" }, "—");
  if (/^https?:\/\//i.test(url)) return h("a", { href: url, rel: "noopener noreferrer" }, url);
  return url;
}

async function deleteModel(model) {
  // The count as of the list shown: the confirmation names what the user saw.
  const count = model.run_count;
  const what = count ? ` and its ${count.toLocaleString()} run${count === 1 ? "" : "s"}` : "";
  const ok = await confirmDialog({
    title: `Delete model "${model.model_name}"?`,
    message: `This deletes the model${what}. It cannot be undone.`,
    confirmLabel: "Delete model",
  });
  if (!ok) return;
  try {
    await api.deleteModel(model.id);
    notify(`Model "${model.model_name}" deleted.`);
  } catch (error) {
    notify(error.message, "error");
  }
  await refresh();
}

function editModel(model) {
  const previous = document.activeElement;
  const dialog = h("dialog", { class: "modal wide", "aria-labelledby": "edit-model-title" });
  const name = textField({ id: "edit-model-name", label: "Name", required: true, value: model.model_name });
  const url = textField({ id: "edit-model-url", label: "URL", type: "url", value: model.model_url || "" });
  const info = jsonEditor({ id: "edit-model-info", label: "Info (JSON object)", value: model.model_info, rows: 10 });
  const status = h("div", { class: "form-status" });
  const close = () => {
    dialog.close();
    dialog.remove();
    if (previous?.isConnected) previous.focus();
  };
  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const fields = readModelFields({ name, url, info, status });
        if (fields === null) return;
        // Only the fields that changed are sent; the API leaves the others as they are.
        const changes = {};
        if (fields.model_name !== model.model_name) changes.model_name = fields.model_name;
        if (fields.model_url !== (model.model_url || "")) changes.model_url = fields.model_url;
        if (JSON.stringify(fields.model_info) !== JSON.stringify(model.model_info)) changes.model_info = fields.model_info;
        if (Object.keys(changes).length === 0) {
          close();
          notify("Nothing changed.");
          return;
        }
        try {
          await api.updateModel(model.id, changes);
          close();
          notify(`Model "${fields.model_name}" saved.`);
          await refresh();
        } catch (error) {
          status.append(errorBox(error.message));
        }
      },
    },
    h("h2", { id: "edit-model-title" }, `Edit model "${model.model_name}"`),
    name.element,
    url.element,
    info.element,
    status,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", onclick: close }, "Cancel"),
      h("button", { type: "submit", class: "primary" }, "Save"),
    ),
  );
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    close();
  });
  dialog.append(form);
  document.body.append(dialog);
  dialog.showModal();
  name.input.focus();
}
