// The REST API, called with the signed-in user's bearer token.
// Errors keep the API's body: `message` is what the page shows.

const TOKEN_KEY = "annotation-workbench.token";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.errorCode = body?.error_code || "HTTP_" + status;
    this.details = body?.details || {};
  }
}

export const session = {
  token: () => localStorage.getItem(TOKEN_KEY),
  save: (token) => localStorage.setItem(TOKEN_KEY, token),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

let onSignedOut = () => {};

/** Called with the ApiError when the API stops accepting the session's token. */
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

function urlOf(path, query) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  return url;
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = { message: `The service answered ${response.status} ${response.statusText}` };
  }
  return new ApiError(response.status, body);
}

async function send(method, path, { query, body, token } = {}) {
  const bearer = token ?? session.token();
  const headers = { Accept: "application/json", Authorization: `Bearer ${bearer}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(urlOf(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, {
      error_code: "UNREACHABLE",
      message: `The service cannot be reached (${error.message}).`,
    });
  }
  if (!response.ok) {
    const error = await errorOf(response);
    // A token given explicitly is being tried (sign-in); the session's own ends here.
    if (response.status === 401 && token === undefined) onSignedOut(error);
    throw error;
  }
  return response;
}

export async function api(method, path, options = {}) {
  const response = await send(method, path, options);
  return response.status === 204 ? null : response.json();
}

export const get = (path, query, options = {}) => api("GET", path, { ...options, query });
export const post = (path, body = {}, query) => api("POST", path, { body, query });
export const patch = (path, body = {}) => api("PATCH", path, { body });
export const del = (path, query) => api("DELETE", path, { query });

/** Fetch a file with the token and hand it to the browser as a download. */
export async function download(path, fallbackName) {
  const response = await send("GET", path);
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : fallbackName;
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  return { name, size: blob.size };
}

/**
 * Follow a Server-Sent Events route with the session's token: `onMessage(data)` for
 * each event, `onError(error)` when something went wrong (null once it is fine again).
 * EventSource cannot send an Authorization header, so the stream is read with fetch().
 * A dropped connection is opened again after a pause, with Last-Event-ID; a refusal
 * (4xx, or an `event: error` that is not the server's internal error) stops it.
 * Returns the function that stops following.
 */
export function follow(path, onMessage, onError) {
  const controller = new AbortController();
  let lastId = null;
  let stopped = false;
  const stop = () => {
    stopped = true;
    controller.abort();
  };
  const handle = (block) => {
    let event = "message";
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === "" || line.startsWith(":")) continue; // comments keep the connection open
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") data.push(value);
      else if (field === "id") lastId = value;
      else if (field === "event") event = value;
    }
    if (data.length === 0) return;
    const body = JSON.parse(data.join("\n"));
    if (event !== "error") {
      onError(null);
      onMessage(body);
      return;
    }
    const error = new ApiError(body.error_code === "INVALID_TOKEN" ? 401 : 0, body);
    if (body.error_code === "INVALID_TOKEN") onSignedOut(error);
    else onError(error);
    if (body.error_code !== "INTERNAL_ERROR") stop();
  };
  (async () => {
    let pause = 1000;
    while (!stopped) {
      try {
        const headers = { Accept: "text/event-stream", Authorization: `Bearer ${session.token()}` };
        if (lastId !== null) headers["Last-Event-ID"] = lastId;
        const response = await fetch(urlOf(path), { headers, signal: controller.signal, cache: "no-store" });
        if (!response.ok) {
          const error = await errorOf(response);
          if (response.status === 401) onSignedOut(error);
          else onError(error);
          if (response.status < 500) return;
        } else {
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            let end;
            while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
              handle(block);
            }
          }
          pause = 1000;
        }
      } catch (error) {
        if (stopped) return;
        onError(new ApiError(0, { error_code: "UNREACHABLE", message: `Live updates paused: the service cannot be reached (${error.message}).` }));
      }
      if (stopped) return;
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 30_000);
    }
  })();
  return stop;
}

/**
 * Who holds this token: {user_id, username, role, kind} with kind "admin" (may
 * manage projects: admin or super_admin), "reviewer" or "annotator". Throws the
 * ApiError of a token the API does not accept.
 */
export async function whoIs(token) {
  const { user } = await api("GET", "/api/v1/me", { token });
  const admin = user.role === "admin" || user.role === "super_admin";
  return { ...user, kind: admin ? "admin" : user.role === "reviewer" ? "reviewer" : "annotator" };
}
