// Model: its facts, a link to its runs, and its versions (number, aliases, created, artifact, size), each
// linked to its run with the run's metrics at a glance. Reads GET /api/models/lookup, the model's
// versions (GET /api/models/{id}/versions), the runs' metric summaries (POST /api/metrics/summaries) and
// how many model records the model and each version produced (GET /api/model_records?limit=0).

import { api, versionFileUrl } from "../api.js";
import { h, errorBox, formatTime, shortId } from "../dom.js";
import { href } from "../router.js";
import { eachLimited, infoSummary } from "../widgets.js";
import { downloadWithToken, formatSize } from "../artifacts.js";
import { formatNumber } from "../format.js";
import { recordsHref } from "./records.js";

/** How many metrics a version shows by their last value: the keys most of the versions' runs logged. */
export const METRICS_AT_A_GLANCE = 4;
/** The most runs POST /api/metrics/summaries reads at once (the server's MAX_SUMMARY_RUNS). */
const SUMMARY_BATCH = 1000;

export async function renderModel(container, { segments, params }) {
  const name = segments[1];
  let model;
  try {
    model = await api.lookupModel(name);
  } catch (error) {
    container.append(
      h("h1", { tabindex: "-1" }, "Model not found"),
      errorBox(error.message, " ", h("a", { href: "#/models" }, "Back to the models.")),
    );
    return;
  }
  const [versions, runs, records] = await Promise.all([
    api.listModelVersions(model.id),
    api.listRuns({ model_name: model.model_name, limit: 0 }),
    recordCount({ model_names: model.model_name }),
  ]);

  container.append(
    h("p", { class: "breadcrumb" }, h("a", { href: "#/models" }, "Models"), " ›"),
    h("h1", { tabindex: "-1" }, `Model ${model.model_name}`),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Id"),
      h("dd", { class: "mono", id: "model-id" }, model.id),
      h("dt", {}, "URL"),
      h("dd", {}, model.model_url ? modelUrl(model.model_url) : h("span", { class: "muted" }, "—")),
      h("dt", {}, "Info"),
      h("dd", {}, infoSummary(model.model_info, 120)),
      h("dt", {}, "Runs"),
      h("dd", { id: "model-runs" }, h("a", { href: href("/runs", { model: model.model_name }) }, `${runs.count.toLocaleString()} run${runs.count === 1 ? "" : "s"}`)),
      h("dt", {}, "Records"),
      h("dd", { id: "model-records" }, recordsCell(records, `Records (${records.count?.toLocaleString()})`, recordsHref(model.model_name))),
      h("dt", {}, "Created"),
      h("dd", {}, formatTime(model.created_at)),
    ),
    await versionsSection(model, versions, params?.get("version") || ""),
  );
}

/** How many model records match: {count}, or {error} (the rest of the page is drawn either way). */
async function recordCount(query) {
  try {
    return { count: await api.countModelRecords(query) };
  } catch (error) {
    return { error: error.message };
  }
}

/** A count of records as a link to them, or why it could not be read. */
function recordsCell(records, label, target) {
  if (records.error) return h("span", { class: "muted", title: records.error }, "could not be read");
  return h("a", { href: target, class: "records-link" }, label);
}

/** Each version's count of records produced with it, by version id; four requests at a time. */
async function versionRecordCounts(model, versions) {
  const counts = new Map();
  await eachLimited(versions, 4, async (version) => {
    counts.set(version.id, await recordCount({ model_names: model.model_name, model_version: `${model.model_name}@${version.version}` }));
  });
  return counts;
}

function modelUrl(url) {
  if (/^https?:\/\//i.test(url)) return h("a", { href: url, rel: "noopener noreferrer" }, url);
  return url;
}

/** Each version's run's summaries as a Map key → summary, by run id (runs that never logged a metric: none). */
async function summariesOfRuns(runIds) {
  const byRun = new Map();
  const unique = [...new Set(runIds)];
  for (let start = 0; start < unique.length; start += SUMMARY_BATCH) {
    for (const { run_id, summaries } of await api.metricSummariesOfRuns(unique.slice(start, start + SUMMARY_BATCH))) {
      byRun.set(run_id, new Map(summaries.map((summary) => [summary.key, summary])));
    }
  }
  return byRun;
}

/** The keys shown: those logged by the most versions' runs first, then by name; at most METRICS_AT_A_GLANCE. */
function glanceKeys(versions, byRun) {
  const counts = new Map();
  for (const version of versions) {
    for (const key of byRun.get(version.model_run_id)?.keys() ?? []) counts.set(key, (counts.get(key) || 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, METRICS_AT_A_GLANCE)
    .map(([key]) => key);
}

async function versionsSection(model, versions, shownVersion) {
  const section = h(
    "section",
    { "aria-labelledby": "versions-title", id: "model-versions" },
    h("h2", { id: "versions-title" }, "Versions"),
  );
  if (versions.length === 0) {
    section.append(
      h(
        "p",
        { class: "muted", id: "versions-empty" },
        "This model has no versions yet. Register a run's artifact as one with ",
        h("code", {}, `gemini models register RUN ARTIFACT`),
        " or ",
        h("code", {}, "run.register_version(...)"),
        ".",
      ),
    );
    return section;
  }
  let byRun = new Map();
  let metricsError = null;
  try {
    byRun = await summariesOfRuns(versions.map((version) => version.model_run_id));
  } catch (error) {
    metricsError = error.message;
  }
  if (metricsError) section.append(errorBox(`The runs' metrics could not be read: ${metricsError}`));
  const keys = glanceKeys(versions, byRun);
  const recordCounts = await versionRecordCounts(model, versions);
  // Newest first: the version in use is usually among the last ones registered.
  const rows = [...versions].reverse().map((version) => {
    const row = versionRow(version, byRun.get(version.model_run_id), keys, recordCounts.get(version.id) ?? { error: "not read" });
    if (shownVersion && String(version.version) === shownVersion) {
      // Reached from a record's version: that row is marked and scrolled to once the page is shown.
      row.classList.add("highlight");
      row.setAttribute("aria-current", "true");
      setTimeout(() => row.isConnected && row.scrollIntoView({ block: "center" }), 0);
    }
    return row;
  });
  section.append(
    h(
      "p",
      { class: "hint" },
      "A version pins the bytes of one run's artifact; an alias names one version of the model, and ",
      h("code", {}, `${model.model_name}@latest`),
      " the highest. The run's metrics are their last values.",
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data", id: "versions-table" },
        h("caption", { class: "visually-hidden" }, `Versions of ${model.model_name}, newest first; each artifact downloads the version's bytes`),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col", class: "num" }, "Version"),
            h("th", { scope: "col" }, "Aliases"),
            h("th", { scope: "col" }, "Created"),
            h("th", { scope: "col" }, "Artifact"),
            h("th", { scope: "col", class: "num" }, "Size"),
            h("th", { scope: "col" }, "SHA-256"),
            h("th", { scope: "col" }, "Run"),
            h("th", { scope: "col" }, "Run metrics"),
            h("th", { scope: "col", class: "num" }, "Records"),
            h("th", { scope: "col" }, "Info"),
          ),
        ),
        h("tbody", {}, rows),
      ),
    ),
  );
  return section;
}

function versionRow(version, summaries, keys, records) {
  const fileName = version.artifact_name.split("/").pop();
  const url = versionFileUrl(version.id);
  return h(
    "tr",
    { dataset: { version: String(version.version), versionId: version.id } },
    h("th", { scope: "row", class: "num" }, `v${version.version}`),
    h(
      "td",
      { class: "aliases" },
      version.aliases.length
        ? version.aliases.map((alias) => h("span", { class: "alias", title: `${version.model_name}@${alias}` }, alias))
        : h("span", { class: "muted" }, "—"),
    ),
    h("td", {}, formatTime(version.created_at), version.created_by ? h("span", { class: "muted small" }, ` by ${version.created_by}`) : null),
    h(
      "td",
      { class: "mono" },
      h("a", { href: url, download: fileName, onclick: (event) => downloadWithToken(event, url, fileName) }, version.artifact_name),
    ),
    h("td", { class: "num" }, formatSize(version.size)),
    h("td", { class: "mono small", title: version.sha256 }, `${version.sha256.slice(0, 12)}…`),
    h("td", { class: "mono" }, h("a", { href: `#/runs/${encodeURIComponent(version.model_run_id)}`, title: version.model_run_id, class: "run-link" }, shortId(version.model_run_id))),
    h("td", { class: "run-metrics" }, metricsAtAGlance(summaries, keys)),
    h(
      "td",
      { class: "num version-records" },
      recordsCell(
        records,
        records.count?.toLocaleString(),
        recordsHref(version.model_name, { version: `${version.model_name}@${version.version}` }),
      ),
    ),
    h("td", {}, infoSummary(version.version_info, 60)),
  );
}

function metricsAtAGlance(summaries, keys) {
  const shown = keys.filter((key) => summaries?.has(key));
  if (shown.length === 0) return h("span", { class: "muted" }, "—");
  const more = (summaries?.size ?? 0) - shown.length;
  return h(
    "dl",
    { class: "glance" },
    shown.map((key) => {
      const summary = summaries.get(key);
      return h(
        "div",
        { dataset: { metric: key }, title: `last ${summary.last} at step ${summary.step}, min ${summary.min}, max ${summary.max}` },
        h("dt", { class: "mono" }, key),
        h("dd", { class: "num" }, formatNumber(summary.last)),
      );
    }),
    more > 0 ? h("div", { class: "muted small" }, `and ${more} more`) : null,
  );
}
