// Compare: 2 to 20 runs side by side, keys that differ highlighted, a scatter of two numeric keys and a
// parallel-coordinates view of several, one metric's curves overlaid. State in the URL:
// #/compare?ids=a,b&x=…&y=…&keys=…&diff=1&metric=…

import { api } from "../api.js";
import { h, errorBox, formatValue, shortId } from "../dom.js";
import { flatten, unionKeys, differs, isNumber } from "../info.js";
import { currentRoute, href, navigate } from "../router.js";
import { scatterChart, parallelChart, legend, colorOf, PALETTE } from "../charts.js";
import { selectedRuns, setSelectedRuns, MAX_COMPARE, MIN_COMPARE } from "../selection.js";
import { metricCurvesSection, readCurvesEarly } from "../tracking.js";

const DEFAULT_AXES = 6;

function viewState(params) {
  const list = (name) => (params.get(name) || "").split(",").map((s) => s.trim()).filter(Boolean);
  return { ids: [...new Set(list("ids"))], x: params.get("x") || "", y: params.get("y") || "", keys: params.has("keys") ? list("keys") : null, diff: params.get("diff") === "1", metric: params.get("metric") || "" };
}

function stateParams(state) {
  return {
    ids: state.ids.join(","),
    x: state.x,
    y: state.y,
    keys: state.keys === null ? "" : state.keys.join(",") || ",",
    diff: state.diff ? "1" : "",
    metric: state.metric,
  };
}

/** Change the view: applied to the URL as it is now, so quick successive changes all stick. */
function go(_state, changes) {
  const current = viewState(currentRoute().params);
  if (current.ids.length === 0) current.ids = selectedRuns();
  navigate("/compare", stateParams({ ...current, ...changes }));
}

export async function renderCompare(container, { params }) {
  const state = viewState(params);
  if (state.ids.length === 0 && selectedRuns().length > 0) state.ids = selectedRuns();
  container.append(h("h1", { tabindex: "-1" }, "Compare runs"));

  if (state.ids.length > MAX_COMPARE) {
    container.append(errorBox(`At most ${MAX_COMPARE} runs can be compared; showing the first ${MAX_COMPARE} of ${state.ids.length}.`));
    state.ids = state.ids.slice(0, MAX_COMPARE);
  }
  setSelectedRuns(state.ids);
  container.append(pickForm(state));

  // Sent now, beside the runs' own reads: the curves are what takes the longest to arrive.
  const curvesRead = state.ids.length >= MIN_COMPARE ? readCurvesEarly(state.ids, state.metric, document.getElementById("main")) : null;
  const results = await Promise.all(
    state.ids.map((id) => api.getRun(id).then((run) => ({ id, run }), (error) => ({ id, error }))),
  );
  const failed = results.filter((r) => r.error);
  for (const { id, error } of failed) {
    container.append(
      errorBox(
        `Run ${id} could not be loaded: ${error.message}`,
        " ",
        h("button", { type: "button", onclick: () => go(state, { ids: state.ids.filter((other) => other !== id) }) }, "Remove it"),
      ),
    );
  }
  const loaded = results.filter((r) => r.run).map((r) => r.run);
  if (loaded.length < MIN_COMPARE) {
    container.append(
      h(
        "p",
        { class: "empty" },
        `Pick at least ${MIN_COMPARE} runs to compare: tick them in the `,
        h("a", { href: "#/runs" }, "runs table"),
        ", or paste their ids above.",
      ),
    );
    return;
  }

  const runs = loaded.map((run, index) => ({
    run,
    label: shortId(run.id),
    color: colorOf(index),
    dashed: index >= PALETTE.length,
    values: flatten(run.model_run_info),
  }));
  const keys = unionKeys(loaded.map((run) => run.model_run_info));
  const differing = new Set(keys.filter((key) => differs(runs.map((r) => r.values.get(key)))));

  container.append(
    h(
      "p",
      { class: "lead", id: "compare-summary" },
      `${runs.length} runs, ${keys.length} keys, of which ${differing.size} differ.`,
    ),
    compareTable(state, runs, keys, differing),
    chartsSection(state, runs, keys, differing),
    await metricCurvesSection({ runs, metric: state.metric, onPick: (metric) => go(state, { metric }), early: curvesRead }),
  );
}

function pickForm(state) {
  const input = h("input", { id: "compare-add", type: "text", class: "mono", placeholder: "run id, or several separated by commas" });
  return h(
    "form",
    {
      class: "inline",
      onsubmit: (event) => {
        event.preventDefault();
        const more = input.value.split(/[\s,]+/).filter(Boolean);
        if (more.length) go(state, { ids: [...new Set([...state.ids, ...more])] });
      },
    },
    h("label", { for: "compare-add" }, "Add runs by id"),
    input,
    h("button", { type: "submit" }, "Add"),
    h("a", { class: "button", href: "#/runs" }, "Pick from the runs table"),
  );
}

function compareTable(state, runs, keys, differing) {
  const shownKeys = state.diff ? keys.filter((key) => differing.has(key)) : keys;
  const diffToggle = h("input", { type: "checkbox", id: "only-differing", checked: state.diff });
  diffToggle.addEventListener("change", () => go(state, { diff: diffToggle.checked }));
  const head = h(
    "tr",
    {},
    h("th", { scope: "col" }, "Key"),
    runs.map((r) =>
      h(
        "th",
        { scope: "col", dataset: { runId: r.run.id } },
        h("span", { class: `swatch${r.dashed ? " dashed" : ""}`, style: `--swatch: ${r.color}`, "aria-hidden": "true" }),
        h("a", { href: href(`/runs/${r.run.id}`), class: "mono", title: r.run.id }, r.label),
        h("div", { class: "muted small" }, r.run.model_name ?? "no model"),
        h(
          "button",
          {
            type: "button",
            class: "link small",
            "aria-label": `Remove run ${r.label} from the comparison`,
            onclick: () => go(state, { ids: state.ids.filter((id) => id !== String(r.run.id)) }),
          },
          "remove",
        ),
      ),
    ),
  );
  const body = h("tbody");
  for (const key of shownKeys) {
    const isDifferent = differing.has(key);
    body.append(
      h(
        "tr",
        { class: isDifferent ? "differs" : "", dataset: { key } },
        h(
          "th",
          { scope: "row", class: "mono" },
          isDifferent ? h("span", { class: "diff-mark", title: "differs" }, "≠ ") : null,
          key,
          isDifferent ? h("span", { class: "visually-hidden" }, " (differs)") : null,
        ),
        runs.map((r) => {
          const value = r.values.get(key);
          return h("td", { class: value === undefined ? "missing" : isNumber(value) ? "num" : "" }, value === undefined ? "—" : formatValue(value));
        }),
      ),
    );
  }
  if (shownKeys.length === 0) {
    body.append(h("tr", {}, h("td", { colspan: runs.length + 1 }, state.diff ? "These runs agree on every key." : "These runs have no info.")));
  }
  return h(
    "section",
    { "aria-labelledby": "side-by-side" },
    h("h2", { id: "side-by-side" }, "Side by side"),
    h("div", { class: "check" }, diffToggle, h("label", { for: "only-differing" }, "Show only keys that differ")),
    h(
      "div",
      { class: "table-wrap" },
      h("table", { class: "data compare", id: "compare-table" }, h("caption", { class: "visually-hidden" }, "Info of the compared runs; rows marked ≠ differ"), h("thead", {}, head), body),
    ),
  );
}

function chartsSection(state, runs, keys, differing) {
  // Numeric keys: at least two runs have a number there.
  const numeric = keys.filter((key) => runs.filter((r) => isNumber(r.values.get(key))).length >= 2);
  const section = h("section", { "aria-labelledby": "charts-title" }, h("h2", { id: "charts-title" }, "Charts"));
  if (numeric.length === 0) {
    section.append(h("p", { class: "muted" }, "No numeric key is shared by two or more of these runs, so there is nothing to plot."));
    return section;
  }
  const preferred = [...numeric.filter((k) => differing.has(k)), ...numeric.filter((k) => !differing.has(k))];
  const xKey = numeric.includes(state.x) ? state.x : preferred[0];
  const yKey = numeric.includes(state.y) ? state.y : preferred.find((k) => k !== xKey) || xKey;
  const axisKeys = state.keys === null ? preferred.slice(0, DEFAULT_AXES) : state.keys.filter((k) => numeric.includes(k));

  const select = (id, label, value, name) => {
    const element = h("select", { id }, numeric.map((key) => h("option", { value: key, selected: key === value }, key)));
    element.addEventListener("change", () => go(state, { [name]: element.value }));
    return h("div", { class: "field" }, h("label", { for: id }, label), element);
  };
  const points = runs
    .filter((r) => isNumber(r.values.get(xKey)) && isNumber(r.values.get(yKey)))
    .map((r) => ({ x: r.values.get(xKey), y: r.values.get(yKey), label: r.label, color: r.color, href: href(`/runs/${r.run.id}`) }));
  const scatter = h(
    "figure",
    { class: "chart-box" },
    h("figcaption", {}, h("h3", {}, "Scatter")),
    h("div", { class: "row" }, select("scatter-x", "Horizontal axis (x)", xKey, "x"), select("scatter-y", "Vertical axis (y)", yKey, "y")),
    points.length > 0 ? scatterChart({ points, xKey, yKey }) : h("p", { class: "muted" }, "No run has numbers for both keys."),
    points.length < runs.length ? h("p", { class: "hint" }, `${runs.length - points.length} run(s) lack one of these keys and are not drawn.`) : null,
  );

  const axisChoice = h("fieldset", { class: "column-list" }, h("legend", {}, "Keys on the parallel axes"));
  numeric.forEach((key, index) => {
    const id = `axis-${index}`;
    const box = h("input", { type: "checkbox", id, checked: axisKeys.includes(key) });
    box.addEventListener("change", () => go(state, { keys: numeric.filter((k) => (k === key ? box.checked : axisKeys.includes(k))) }));
    axisChoice.append(h("div", { class: "check" }, box, h("label", { for: id }, key)));
  });
  const multi = h(
    "figure",
    { class: "chart-box" },
    h("figcaption", {}, h("h3", {}, axisKeys.length === 1 ? "Bars" : "Parallel coordinates")),
    axisChoice,
    axisKeys.length > 0 ? parallelChart({ runs, keys: axisKeys }) : h("p", { class: "muted" }, "Tick at least one key to draw."),
    h("p", { class: "hint" }, "Each axis has its own scale, covering the values of these runs."),
  );
  section.append(legend(runs), h("div", { class: "charts" }, scatter, multi));
  return section;
}
