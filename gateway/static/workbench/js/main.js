// The workbench: sign-in, then the admin's, the reviewer's or the annotator's view
// (hash routes). Admins review too (#/review).
import { session, whenSignedOut, whoIs } from "./api.js";
import { AnnotatorHome } from "./annotator.js";
import { TaskPage } from "./task.js";
import { Fragment, html, render, useCallback, useEffect, useState } from "./lib.js";
import { ProjectPage } from "./project.js";
import { ProjectsPage } from "./projects.js";
import { ReviewPage } from "./review.js";
import { SignIn, explain } from "./signin.js";
import { ErrorBox, Loading } from "./widgets.js";


const HOME = { admin: "#/projects", reviewer: "#/review", annotator: "#/queue" };
const ROLE_NAMES = { super_admin: "super admin", admin: "administrator", reviewer: "reviewer" };

function useHash() {
  const [hash, setHash] = useState(window.location.hash || "#/");
  useEffect(() => {
    const listener = () => setHash(window.location.hash || "#/");
    window.addEventListener("hashchange", listener);
    return () => window.removeEventListener("hashchange", listener);
  }, []);
  const navigate = useCallback((target) => {
    if (window.location.hash === target) setHash(target);
    else window.location.hash = target;
  }, []);
  return [hash, navigate];
}

function Page({ role, hash, navigate }) {
  const [path, query] = hash.slice(1).split("?");
  const parts = path.split("/").filter(Boolean);
  if (role === "reviewer" || (role === "admin" && parts[0] === "review")) {
    const projectId = new URLSearchParams(query).get("project") || "";
    return html`<${ReviewPage} key=${projectId} projectId=${projectId} />`;
  }
  if (role === "admin") {
    if (parts[0] === "projects" && parts[1]) {
      const tab = new URLSearchParams(query).get("tab") || "overview";
      return html`<${ProjectPage} projectId=${decodeURIComponent(parts[1])} tab=${tab} />`;
    }
    return html`<${ProjectsPage} />`;
  }
  if (parts[0] === "tasks" && parts[1]) {
    return html`<${TaskPage} taskId=${decodeURIComponent(parts[1])} navigate=${navigate} />`;
  }
  // Keyed by the route: coming back to the queue shows it afresh (a returned task, say).
  return html`<${AnnotatorHome} key=${hash} navigate=${navigate} finished=${new URLSearchParams(query).has("done")} />`;
}

function App() {
  const [auth, setAuth] = useState(() =>
    session.token() ? { state: "checking" } : { state: "signed-out", reason: "" },
  );
  const [hash, navigate] = useHash();

  const signOut = useCallback((reason = "") => {
    session.clear();
    setAuth({ state: "signed-out", reason });
  }, []);

  useEffect(() => {
    whenSignedOut((error) => signOut(`Your session has ended. ${explain(error)}`));
    if (auth.state !== "checking") return;
    whoIs(session.token()).then(
      (user) => setAuth({ state: "signed-in", user }),
      (error) =>
        error.status === 401 || error.status === 403
          ? signOut(`Your session has ended. ${explain(error)}`)
          : setAuth({ state: "unreachable", error }),
    );
  }, [auth.state]);

  if (!window.LabelStudio) {
    return html`<main class="notice"><h1>Label Studio did not load</h1>
      <p>The page could not run <code>vendor/label-studio/main.js</code>. Reinstall the front end with
      <code>scripts/install_workbench.sh</code> and reload.</p></main>`;
  }
  if (auth.state === "checking") return html`<main class="notice"><${Loading} what="Checking your token" /></main>`;
  if (auth.state === "unreachable") {
    return html`<main class="notice"><${ErrorBox} error=${auth.error} onRetry=${() => setAuth({ state: "checking" })} /></main>`;
  }
  if (auth.state === "signed-out") {
    return html`<${SignIn} reason=${auth.reason} onSignedIn=${(token, user) => {
      session.save(token);
      navigate(HOME[user.kind]);
      setAuth({ state: "signed-in", user });
    }} />`;
  }
  const user = auth.user;
  const role = user.kind;
  return html`<${Fragment}>
    <nav class="topbar">
      <a class="brand" href=${HOME[role]}>Annotation workbench</a>
      ${role === "admin" && html`<a href="#/projects">Projects</a>`}
      ${role !== "annotator" && html`<a href="#/review" id="nav-review">Review queue</a>`}
      ${role === "annotator" && html`<a href="#/queue">My queue</a>`}
      <span class="spacer"></span>
      <span class="who"><span id="username">${user.username}</span>
        <span class="subtle-dark" id="role">${ROLE_NAMES[user.role] ?? "annotator"}</span></span>
      <button type="button" class="link" id="sign-out" onClick=${() => signOut("")}>Sign out</button>
    </nav>
    <${Page} role=${role} hash=${hash} navigate=${navigate} />
  </${Fragment}>`;
}

const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);
