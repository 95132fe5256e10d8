// The public API, as the explorer reads it: every request goes through here, with the read
// key (when the server needs one) in a header, never in the URL.

const KEY_STORAGE = "conflictdb.readKey";

export class ApiError extends Error {
  // A problem answer (RFC 9457): status, title, detail, and field errors with their loc.
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  // The query parameters the API named as wrong: [[name, message], ...].
  fields() {
    return (this.problem.errors || [])
      .filter((e) => Array.isArray(e.loc) && e.loc[0] === "query")
      .map((e) => [String(e.loc[1]), e.msg]);
  }

  get retryable() {
    return this.status === 503 || this.status === 429 || this.status >= 500;
  }
}

export class NetworkError extends Error {
  get retryable() {
    return true;
  }
}

export class Api {
  constructor(root, { authReads = false } = {}) {
    this.root = root;
    this.authReads = authReads;
    this.onUnauthorized = null; // set by the page: ask for a key
    this.early = new Map(); // answers asked for before their view was built: key -> promise
  }

  // Ask now for what a view will ask for once the page is set up (it reads the URL's state
  // before the API's description and vocabulary are in): the view's own request then takes
  // this answer instead of asking again.
  prefetch(path, params) {
    const url = this.url(path, params);
    const answer = this.fetch(path, params).then((response) => response.json());
    answer.catch(() => {}); // a failure is the view's to report, when it asks
    this.early.set(sameRequest(url), answer);
  }

  get key() {
    return sessionStorage.getItem(KEY_STORAGE);
  }

  set key(value) {
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    else sessionStorage.removeItem(KEY_STORAGE);
  }

  url(path, params) {
    const query = params instanceof URLSearchParams ? params : toParams(params || {});
    const qs = query.toString();
    return `${this.root}${path}${qs ? `?${qs}` : ""}`;
  }

  headers(accept = "application/json") {
    const headers = { Accept: accept };
    if (this.key) headers.Authorization = `Bearer ${this.key}`;
    return headers;
  }

  async fetch(path, params, { signal, accept } = {}) {
    let response;
    try {
      response = await fetch(this.url(path, params), { headers: this.headers(accept), signal });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new NetworkError("The server could not be reached.");
    }
    if (response.ok) return response;
    let problem = { title: response.statusText };
    try {
      problem = await response.json();
    } catch {
      // not a problem document: keep the status line
    }
    const error = new ApiError(response.status, problem);
    if (response.status === 401 && this.onUnauthorized) this.onUnauthorized(error);
    throw error;
  }

  async json(path, params, options = {}) {
    const key = sameRequest(this.url(path, params));
    const early = this.early.get(key);
    if (early && !options.accept) {
      this.early.delete(key);
      return early;
    }
    const response = await this.fetch(path, params, options);
    return response.json();
  }
}

// Two URLs of the same request: the same parameters, in any order.
function sameRequest(url) {
  const [path, query = ""] = url.split("?");
  const params = new URLSearchParams(query);
  params.sort();
  return `${path}?${params}`;
}

// {name: value | [values]} -> URLSearchParams, leaving out empty values.
export function toParams(object) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(object)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined && v !== null && v !== "") params.append(name, String(v));
    }
  }
  return params;
}
