// The REST client of the server that serves this page: every request goes through `exchange`, which
// turns API errors into ApiError with a readable message and asks for a token when the server answers
// 401 (none, or one it refused) or 403 (a token whose scope does not allow the change). Lists are plain
// arrays with their total in X-Total-Count and the next page in Link.

import { askToken } from "./dom.js";

const TOKEN_KEY = "gemini.apiToken";
const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

const STATUS_TEXT = {
  400: "Bad request",
  401: "A token is required",
  403: "This token may not do that",
  404: "Not found",
  409: "Conflict",
  413: "Too large",
  422: "Invalid input",
  500: "Server error",
  503: "Database unavailable",
};

/**
 * The human-readable message of an error response: the server's `error_description`, or the start of
 * a body that is not the server's JSON (a proxy's error page, say).
 */
export function errorMessage(status, body) {
  const label = STATUS_TEXT[status] || `HTTP ${status}`;
  let detail = "";
  if (typeof body === "string") {
    detail = body.trim().slice(0, 300);
  } else if (typeof body?.error_description === "string") {
    detail = body.error_description;
  }
  return detail ? `${label}: ${detail}` : label;
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

/** Forget the write token of this tab. */
export function forgetToken() {
  setToken("");
}

function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let pendingAsk = null;

/** One token dialog at a time: the requests a page sends together all wait for the same answer. */
function askTokenOnce(prompt) {
  if (!pendingAsk) pendingAsk = askToken(prompt).finally(() => (pendingAsk = null));
  return pendingAsk;
}

function buildUrl(path, query) {
  const url = new URL(`/api${path}`, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (Array.isArray(value)) value.forEach((item) => url.searchParams.append(key, String(item)));
    else if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
  }
  return url.pathname + url.search;
}

async function send(method, url, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  // Sent with reads too: a private server needs a token to read, and any server refuses a revoked one.
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(url, init);
  } catch (error) {
    throw new ApiError(0, `The server could not be reached (${error.message}). Is \`gemini serve\` running?`);
  }
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Send one request to the REST API; resolves to {data, status, headers}, data being the parsed JSON body. */
async function exchange(method, path, { query, body } = {}) {
  const url = buildUrl(path, query);
  let refused = false;
  for (;;) {
    const response = await send(method, url, body);
    const data = await readBody(response);
    if (response.ok) return { data, status: response.status, headers: response.headers };
    if (response.status === 401 || response.status === 403) {
      const write = WRITE_METHODS.has(method);
      const held = getToken();
      let prompt;
      if (response.status === 403) {
        // A valid token of too small a scope: kept (it still reads) unless another one is given.
        prompt = `This token may not ${write ? "make changes" : "do that"}. Enter a token with ${write ? "write" : "more"} scope.`;
      } else {
        if (held) setToken("");
        if (held || refused) {
          prompt = `The server refused this token. Enter the ${write ? "write " : ""}token again.`;
        } else if (write) {
          prompt = "This server needs a write token for changes. Enter it once; it is kept until you close the tab.";
        } else {
          prompt = "This server needs a token to read the registry. Enter it once; it is kept until you close the tab.";
        }
      }
      const token = await askTokenOnce(prompt);
      if (token) {
        setToken(token);
        window.dispatchEvent(new Event("gemini-token"));
        refused = true;
        continue;
      }
    }
    throw new ApiError(response.status, errorMessage(response.status, data), data);
  }
}

/** The parsed JSON body of a request (null when empty). */
export async function request(method, path, options) {
  return (await exchange(method, path, options)).data;
}

/** A create: {data, status}, the status 201 when the record is new and 200 when it already existed. */
async function create(path, body) {
  const { data, status } = await exchange("POST", path, { body });
  return { data, status };
}

let health = null;

/**
 * The server's /api/health answer, read once per page and shared: the run statuses and error kinds are
 * the server's lists, so the page keeps no copy of them. A 503 (database unavailable) carries them too;
 * when the server cannot be reached it resolves to null, and the next call asks again.
 */
export function serverHealth() {
  if (!health) {
    health = send("GET", buildUrl("/health"))
      .then(readBody)
      .catch(() => null)
      .then((body) => {
        if (!body || typeof body !== "object") {
          health = null;
          return null;
        }
        return body;
      });
  }
  return health;
}

/** Every status the server reports a tracked run with (empty while it cannot be reached). */
export async function runStatuses() {
  return (await serverHealth())?.run_statuses ?? [];
}

/** The query parameters of the `Link` header's rel="next" URL, or null on the last page. */
export function nextPageParams(linkHeader) {
  const match = /<([^>]*)>\s*;\s*rel="?next"?/.exec(linkHeader || "");
  return match ? new URL(match[1], window.location.origin).searchParams : null;
}

/** One page of a list: {items, count, nextCursor} from the array, X-Total-Count and the Link header. */
async function listPage(path, query) {
  const { data, headers } = await exchange("GET", path, { query });
  const next = nextPageParams(headers.get("Link"));
  return { items: data, count: Number(headers.get("X-Total-Count")), nextCursor: next?.get("cursor") ?? null };
}

/** One page of model records: {items, count}, from the array and its X-Total-Count, as every list. */
async function recordsPage(query) {
  const { data, headers } = await exchange("GET", "/model_records", { query });
  return { items: data, count: Number(headers.get("X-Total-Count")) };
}

export const api = {
  listModels: (query) => listPage("/models", query),
  getModel: (id) => request("GET", `/models/${encodeURIComponent(id)}`),
  lookupModel: (name) => request("GET", "/models/lookup", { query: { model_name: name } }),
  listModelVersions: (id) => request("GET", `/models/${encodeURIComponent(id)}/versions`),
  createModel: (body) => create("/models", body),
  updateModel: (id, body) => request("PATCH", `/models/${encodeURIComponent(id)}`, { body }),
  deleteModel: (id) => request("DELETE", `/models/${encodeURIComponent(id)}`),
  listModelRuns: (id, query) => listPage(`/models/${encodeURIComponent(id)}/runs`, query),
  listRuns: (query) => listPage("/model_runs", query),
  getRun: (id) => request("GET", `/model_runs/${encodeURIComponent(id)}`),
  createRun: (body) => create("/model_runs", body),
  replaceRunInfo: (id, info) => request("PATCH", `/model_runs/${encodeURIComponent(id)}`, { body: { model_run_info: info } }),
  /** Give the run a readable name; null removes it. */
  renameRun: (id, name) => request("PATCH", `/model_runs/${encodeURIComponent(id)}`, { body: { run_name: name } }),
  deleteRun: (id) => request("DELETE", `/model_runs/${encodeURIComponent(id)}`),
  associateRun: (id, modelName) =>
    request("PUT", `/model_runs/${encodeURIComponent(id)}/model`, { body: { model_name: modelName } }),
  unassociateRun: (id) => request("DELETE", `/model_runs/${encodeURIComponent(id)}/model`),
  metricSummaries: (id) => request("GET", `/model_runs/${encodeURIComponent(id)}/metrics`),
  metricSummariesOfRuns: (runIds) => request("POST", "/metrics/summaries", { body: { run_ids: runIds } }),
  /**
   * One key's series for several runs, in their order (runs without the key left out), as columns:
   * [{run_id, steps, values, timestamps, reduced}]. Over steps startStep to endStep (both included,
   * either left out for the first or the last); a range of more than maxPoints points comes back
   * reduced to at most that many, its extremes kept (reduced: true).
   */
  metricHistories: (key, runIds, { maxPoints, startStep, endStep } = {}) =>
    request("GET", "/metrics/history", {
      query: { key, run_id: runIds, max_points: maxPoints, start_step: startStep, end_step: endStep },
    }),
  listArtifacts: (id, query) => request("GET", `/model_runs/${encodeURIComponent(id)}/artifacts`, { query }),
  /** A page of model records matching the filters (model_names, site_names, model_run_id, …). */
  listModelRecords: (query) => recordsPage(query),
  /** How many model records match the filters (one request, no record read). */
  countModelRecords: async (query) => (await recordsPage({ ...query, limit: 0, offset: undefined })).count,
};

/** The address of an artifact's bytes: each part of its name percent-encoded, its "/" kept. */
export function artifactUrl(runId, name) {
  return `/api/model_runs/${encodeURIComponent(runId)}/artifacts/${String(name).split("/").map(encodeURIComponent).join("/")}`;
}

/** The address of a model version's pinned bytes. */
export function versionFileUrl(versionId) {
  return `/api/models/versions/${encodeURIComponent(versionId)}/file`;
}

/** The address of a model record's file. */
export function recordFileUrl(recordId) {
  return `/api/models/records/id/${encodeURIComponent(recordId)}/download`;
}
