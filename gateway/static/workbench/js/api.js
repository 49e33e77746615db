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
 * Who holds this token: {user_id, username, role, kind} with kind "admin" (may
 * manage projects: admin or super_admin), "reviewer" or "annotator". Throws the
 * ApiError of a token the API does not accept.
 */
export async function whoIs(token) {
  const { user } = await api("GET", "/api/v1/me", { token });
  const admin = user.role === "admin" || user.role === "super_admin";
  return { ...user, kind: admin ? "admin" : user.role === "reviewer" ? "reviewer" : "annotator" };
}
