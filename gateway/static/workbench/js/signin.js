// The sign-in screen: paste a token issued with `annotation-api tokens create`.
import { whoIs } from "./api.js";
import { html, useState } from "./lib.js";
import { ErrorBox } from "./widgets.js";

export function SignIn({ reason, onSignedIn }) {
  const [token, setToken] = useState("");
  const [state, setState] = useState({ busy: false, error: null });
  const submit = async (event) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) return;
    setState({ busy: true, error: null });
    try {
      onSignedIn(value, await whoIs(value));
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return html`<main class="signin">
    <form class="card" id="signin" onSubmit=${submit}>
      <h1>Annotation workbench</h1>
      ${reason && html`<div class="error" role="alert" id="signed-out-reason"><strong>${reason}</strong></div>`}
      <p>Sign in with your API token. An administrator issues it on the server:</p>
      <pre>annotation-api tokens create --username ${"<your name>"}</pre>
      <p class="subtle">The token is the last line printed. It stays in this browser until you sign out.</p>
      <label for="token">Token</label>
      <input id="token" type="password" autocomplete="off" spellcheck="false" value=${token}
        onInput=${(e) => { setToken(e.currentTarget.value); setState((s) => ({ ...s, error: null })); }} autoFocus />
      <${ErrorBox} error=${state.error && { ...state.error, message: explain(state.error) }} />
      <button type="submit" class="primary" disabled=${state.busy || !token.trim()}>
        ${state.busy ? "Checking…" : "Sign in"}
      </button>
    </form>
  </main>`;
}

/** Why a token was refused, in the words of the API plus what to do about it. */
export function explain(error) {
  if (error.status === 401) {
    return `This token is not accepted: ${error.message}. A token stops working when it is revoked or expires; ask an administrator for a new one.`;
  }
  if (error.status === 403) {
    return `This token is valid, but its user may neither manage projects nor annotate: ${error.message}.`;
  }
  return error.message;
}
