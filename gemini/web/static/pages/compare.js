// Compare: 2 to 20 runs side by side: one metric's curves overlaid first, then the keys that differ
// highlighted, a scatter of two numeric keys and a parallel-coordinates view of several, where a
// metric's last, lowest or highest value is a key too. State in the URL:
// #/compare?ids=a,b&metric=…&xaxis=…&smooth=…&diff=1&x=…&y=…&keys=…

import { api } from "../api.js";
import { h, errorBox, formatValue, runLabel, shortId } from "../dom.js";
import { flatten, unionKeys, differs, isNumber } from "../info.js";
import { currentRoute, href, navigate } from "../router.js";
import { scatterChart, parallelChart, legend, colorOf, PALETTE } from "../charts.js";
import { curveView, curveViewParams } from "../curves.js";
import { formatNumber, fullNumber } from "../format.js";
import { betterSide, compareKeys, mainKeys } from "../metric_keys.js";
import { selectedRuns, setSelectedRuns, MAX_COMPARE, MIN_COMPARE } from "../selection.js";
import { compareSummaries, metricCurvesSection, readCurvesEarly } from "../tracking.js";

const DEFAULT_AXES = 6;
/** Beyond this many keys the table shows only those that differ, unless asked otherwise (diff=0). */
const MANY_KEYS = 20;
/** What a metric offers as an axis: its value at the last step, its lowest, its highest. */
const AGGREGATES = ["last", "min", "max"];

function viewState(params) {
  const list = (name) => (params.get(name) || "").split(",").map((s) => s.trim()).filter(Boolean);
  const diff = params.get("diff");
  return {
    ids: [...new Set(list("ids"))],
    x: params.get("x") || "",
    y: params.get("y") || "",
    keys: params.has("keys") ? list("keys") : null,
    diff: diff === "1" ? true : diff === "0" ? false : null,
    metric: params.get("metric") || "",
    view: curveView(params),
  };
}

function stateParams(state) {
  return {
    ids: state.ids.join(","),
    x: state.x,
    y: state.y,
    keys: state.keys === null ? "" : state.keys.join(",") || ",",
    diff: state.diff === null ? "" : state.diff ? "1" : "0",
    metric: state.metric,
    ...curveViewParams(state.view),
  };
}

/** A metric's aggregate as an axis key: "max(metrics/mAP50(B))". */
function metricAxis(aggregate, key) {
  return `${aggregate}(${key})`;
}

/** Each run's label: its name, with its short id after it when another run shown has the same name. */
function runLabels(runs) {
  const labels = runs.map(runLabel);
  const counts = new Map();
  for (const label of labels) counts.set(label, (counts.get(label) || 0) + 1);
  return labels.map((label, index) => (counts.get(label) > 1 && runs[index].run_name ? `${label} · ${shortId(runs[index].id)}` : label));
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

  const labels = runLabels(loaded);
  const runs = loaded.map((run, index) => ({
    run,
    label: labels[index],
    color: colorOf(index),
    dashed: index >= PALETTE.length,
    values: flatten(run.model_run_info),
  }));
  const keys = unionKeys(loaded.map((run) => run.model_run_info));
  const differing = new Set(keys.filter((key) => differs(runs.map((r) => r.values.get(key)))));
  const [curves, summaries] = await Promise.all([
    metricCurvesSection({ runs, metric: state.metric, view: state.view, onPick: (metric) => go(state, { metric }), early: curvesRead }),
    compareSummaries(curvesRead, loaded.map((run) => run.id)).catch(() => new Map()),
  ]);

  container.append(
    h(
      "p",
      { class: "lead", id: "compare-summary" },
      `${runs.length} runs, ${keys.length} keys, of which ${differing.size} differ.`,
    ),
    curves,
    compareTable(state, runs, keys, differing),
    chartsSection(state, runs, keys, differing, summaries),
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
  // Many keys (a training's every argument) bury the few that differ: then those alone, unless asked.
  const onlyDiffering = state.diff ?? (keys.length > MANY_KEYS && differing.size > 0);
  const shownKeys = onlyDiffering ? keys.filter((key) => differing.has(key)) : keys;
  const diffToggle = h("input", { type: "checkbox", id: "only-differing", checked: onlyDiffering });
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
        r.run.run_name ? h("div", { class: "muted small mono" }, shortId(r.run.id)) : null,
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
          if (value === undefined) return h("td", { class: "missing" }, "—");
          if (isNumber(value)) return h("td", { class: "num", title: fullNumber(value) }, formatNumber(value));
          return h("td", {}, formatValue(value));
        }),
      ),
    );
  }
  if (shownKeys.length === 0) {
    body.append(h("tr", {}, h("td", { colspan: runs.length + 1 }, onlyDiffering ? "These runs agree on every key." : "These runs have no info.")));
  }
  return h(
    "section",
    { "aria-labelledby": "side-by-side" },
    h("h2", { id: "side-by-side" }, "Side by side"),
    h(
      "div",
      { class: "check" },
      diffToggle,
      h("label", { for: "only-differing" }, "Show only keys that differ"),
      onlyDiffering && keys.length > shownKeys.length ? h("span", { class: "hint" }, ` (${keys.length - shownKeys.length} equal keys hidden)`) : null,
    ),
    h(
      "div",
      { class: "table-wrap" },
      h("table", { class: "data compare", id: "compare-table" }, h("caption", { class: "visually-hidden" }, "Info of the compared runs; rows marked ≠ differ"), h("thead", {}, head), body),
    ),
  );
}

/**
 * The metrics as axes: each key logged by two or more of the runs, as its last, lowest and highest value.
 * Returns the axis keys (by group), each run's values of them (Map axis → number), the better side of
 * each key that has one (max(mAP), min(loss)), and the main ones among those: the keys that say how good
 * a run is.
 */
function metricAxes(runs, summaries) {
  const byRun = runs.map((r) => new Map((summaries.get(String(r.run.id)) ?? []).map((s) => [s.key, s])));
  const counts = new Map();
  for (const held of byRun) for (const key of held.keys()) counts.set(key, (counts.get(key) || 0) + 1);
  const shared = [...counts.keys()].filter((key) => counts.get(key) >= 2).sort(compareKeys);
  const values = runs.map(() => new Map());
  const axes = [];
  for (const key of shared) {
    for (const aggregate of AGGREGATES) {
      const axis = metricAxis(aggregate, key);
      byRun.forEach((held, index) => {
        const value = held.get(key)?.[aggregate];
        if (isNumber(value)) values[index].set(axis, value);
      });
      if (values.filter((v) => v.has(axis)).length >= 2) axes.push(axis);
    }
  }
  const bestAxis = (key) => metricAxis(betterSide(key), key);
  const best = shared.filter((key) => betterSide(key) && axes.includes(bestAxis(key))).map(bestAxis);
  const main = mainKeys(shared, 2).map(bestAxis).filter((axis) => best.includes(axis));
  return { axes, values, best, main };
}

function chartsSection(state, runs, keys, differing, summaries) {
  const metrics = metricAxes(runs, summaries);
  // Each run's values of every axis: its info's numbers and its metrics'.
  const plotted = runs.map((r, index) => ({ ...r, values: new Map([...r.values, ...metrics.values[index]]) }));
  const present = (key) => plotted.filter((r) => isNumber(r.values.get(key))).length;
  // Numeric info keys: at least two runs have a number there.
  const numericInfo = keys.filter((key) => present(key) >= 2);
  const numeric = [...metrics.axes, ...numericInfo];
  const section = h("section", { "aria-labelledby": "charts-title" }, h("h2", { id: "charts-title" }, "Charts"));
  if (numeric.length === 0) {
    section.append(h("p", { class: "muted" }, "No numeric key is shared by two or more of these runs, so there is nothing to plot."));
    return section;
  }
  const varies = (key) => differs(plotted.map((r) => r.values.get(key)));
  // The info keys that differ, those that most runs have first; then the main metrics, if they differ.
  const infoDiffering = numericInfo.filter((key) => differing.has(key)).sort((a, b) => present(b) - present(a));
  const mainDiffering = metrics.main.filter(varies);
  const preferred = [...infoDiffering, ...mainDiffering, ...metrics.axes.filter(varies), ...numeric];
  const xKey = numeric.includes(state.x) ? state.x : preferred[0];
  const yKey = numeric.includes(state.y) ? state.y : [...mainDiffering, ...metrics.best.filter(varies), ...preferred].find((k) => k !== xKey) || xKey;
  // Few keys differ: the other metrics that differ fill the axes, each by its better side (min of a loss).
  const defaultAxes = [...infoDiffering.slice(0, DEFAULT_AXES - mainDiffering.length), ...mainDiffering];
  for (const axis of metrics.best.filter(varies)) if (defaultAxes.length < DEFAULT_AXES && !defaultAxes.includes(axis)) defaultAxes.push(axis);
  const axisKeys = state.keys === null ? (defaultAxes.length ? defaultAxes : [...new Set(preferred)].slice(0, DEFAULT_AXES)) : state.keys.filter((k) => numeric.includes(k));

  // The choices in groups: the metrics, the info keys that differ, the other info keys.
  const groups = [
    ["Metrics (last, min, max)", metrics.axes],
    ["Info keys that differ", numericInfo.filter((key) => differing.has(key))],
    ["Info keys equal in every run", numericInfo.filter((key) => !differing.has(key))],
  ].filter(([, members]) => members.length > 0);
  const select = (id, label, value, name) => {
    const element = h(
      "select",
      { id },
      groups.map(([title, members]) => h("optgroup", { label: title }, members.map((key) => h("option", { value: key, selected: key === value }, key)))),
    );
    element.addEventListener("change", () => go(state, { [name]: element.value }));
    return h("div", { class: "field" }, h("label", { for: id }, label), element);
  };
  const points = plotted
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
  const offered = [...new Set([...axisKeys, ...groups.flatMap(([, members]) => members)])];
  offered.forEach((key, index) => {
    const id = `axis-${index}`;
    const box = h("input", { type: "checkbox", id, checked: axisKeys.includes(key) });
    box.addEventListener("change", () => go(state, { keys: offered.filter((k) => (k === key ? box.checked : axisKeys.includes(k))) }));
    axisChoice.append(h("div", { class: "check" }, box, h("label", { for: id, class: "mono" }, key)));
  });
  const multi = h(
    "figure",
    { class: "chart-box" },
    h("figcaption", {}, h("h3", {}, axisKeys.length === 1 ? "Bars" : "Parallel coordinates")),
    h("details", { class: "columns", id: "parallel-keys" }, h("summary", {}, `Keys on the axes: ${axisKeys.length} of ${offered.length}…`), axisChoice),
    axisKeys.length > 0 ? parallelChart({ runs: plotted, keys: axisKeys }) : h("p", { class: "muted" }, "Tick at least one key to draw."),
    h("p", { class: "hint" }, "Each axis has its own scale, covering the values of these runs."),
  );
  section.append(legend(runs), h("div", { class: "charts" }, scatter, multi));
  return section;
}
