// One project, for its admin, on two tabs. Overview: labels and Ready, assignment,
// progress, prediction statistics and exports. Quality (quality.js): settings,
// reviewers, review counts, agreement and ground-truth accuracy, ground-truth
// tasks; its figures load when the tab opens. Every figure and rule comes from the
// API; the page only shows them and sends what the admin chose.
import { follow, get, post } from "./api.js";
import { ExportCard } from "./export-card.js";
import { GroundTruthCard, QualityCard, QualitySettingsCard, ReviewersCard } from "./quality.js";
import { html, useEffect, useState } from "./lib.js";
import {
  BarChart,
  ErrorBox,
  Loading,
  ProgressBar,
  StatusBadge,
  formatSeconds,
  formatTime,
  useLoad,
} from "./widgets.js";

// Prediction statistics follow the progress, at most this often.
const STATS_EVERY_MS = 2_000;

/** The labels of a Label Studio config: [{tag, color}] of its Label / Choice elements. */
function labelsOfConfig(config) {
  if (!config) return [];
  const xml = new DOMParser().parseFromString(config, "application/xml");
  return [...xml.querySelectorAll("Label, Choice")].map((element) => ({
    tag: element.getAttribute("value") || "",
    color: element.getAttribute("background") || "",
  }));
}

async function loadProject(projectId) {
  const id = encodeURIComponent(projectId);
  const [progress, firstPage, formats] = await Promise.all([
    get(`/api/external/projects/${id}/progress`),
    get(`/api/external/projects/${id}/tasks`, { page_size: 1 }),
    get("/api/external/export-formats"),
  ]);
  // The task type and the config in use travel with every task.
  const first = firstPage.tasks[0];
  const task = first ? (await get(`/api/v1/tasks/${encodeURIComponent(first.task_id)}`)).task : null;
  return { progress, formats: formats.formats, taskType: task?.task_type ?? "", config: task?.label_config ?? "" };
}

export function ProjectPage({ projectId, tab }) {
  const project = useLoad(() => loadProject(projectId), [projectId]);
  const live = useLoad(
    () =>
      Promise.all([
        get(`/api/external/projects/${encodeURIComponent(projectId)}/progress`),
        get(`/api/external/projects/${encodeURIComponent(projectId)}/predictions/stats`),
      ]).then(([progress, stats]) => ({ progress, stats })),
    [projectId],
  );
  // The progress is pushed by the server (…/progress/stream): no polling, no Refresh.
  const [streamed, setStreamed] = useState(null);
  const [streamError, setStreamError] = useState(null);
  useEffect(() => {
    setStreamed(null);
    const path = `/api/external/projects/${encodeURIComponent(projectId)}/progress/stream`;
    return follow(path, (event) => setStreamed(event.progress), setStreamError);
  }, [projectId]);
  const changed = streamed?.last_updated;
  useEffect(() => {
    if (!changed) return undefined;
    const timer = setTimeout(() => live.reload(), STATS_EVERY_MS);
    return () => clearTimeout(timer);
  }, [changed, live.reload]);

  if (project.loading && !project.data) return html`<section class="page"><${Loading} what="Loading the project" /></section>`;
  if (project.error) {
    return html`<section class="page"><${ErrorBox} error=${project.error} onRetry=${project.reload} />
      <a href="#/projects">All projects</a></section>`;
  }
  const info = project.data;
  const progress = streamed ?? live.data?.progress ?? info.progress;
  const refresh = () => {
    live.reload();
  };
  const tabLink = (name, label) => html`<a href=${`#/projects/${encodeURIComponent(projectId)}?tab=${name}`}
    id=${`tab-${name}`} class=${tab === name ? "tab current" : "tab"} aria-current=${tab === name ? "page" : null}>${label}</a>`;
  return html`<section class="page project" data-project=${projectId}>
    <header class="page-head">
      <div>
        <p class="crumbs"><a href="#/projects">Projects</a> /</p>
        <h1>${progress.project_name} <${StatusBadge} status=${progress.status} /></h1>
        <p class="subtle">${info.taskType.replace("_", " ")} · ${progress.total_tasks} tasks · updated ${formatTime(progress.last_updated)}</p>
      </div>
      <div class="actions"><span class="subtle" id="live-state">${streamed && !streamError ? "● live" : "connecting…"}</span></div>
    </header>
    <${ErrorBox} error=${streamError} />
    <nav class="tabs">${tabLink("overview", "Overview")}${tabLink("quality", "Quality")}</nav>
    <${ErrorBox} error=${live.error} onRetry=${live.reload} />
    ${tab === "quality" && html`<div class="cards">
      <${QualitySettingsCard} projectId=${projectId} onSaved=${refresh} />
      <${ReviewersCard} projectId=${projectId} />
      <${GroundTruthCard} projectId=${projectId} onChanged=${refresh} />
      <${QualityCard} projectId=${projectId} progress=${progress} round=${live.data} />
    </div>`}
    ${tab !== "quality" && html`<div class="cards">
      <${LabelsCard} projectId=${projectId} config=${info.config} status=${progress.status} onSaved=${() => { project.reload(); live.reload(); }} />
      <${AssignCard} projectId=${projectId} progress=${progress} onAssigned=${refresh} />
      <${ExportCard} projectId=${projectId} taskType=${info.taskType} formats=${info.formats} />
      <${ProgressCard} progress=${progress} />
      <${StatsCard} projectId=${projectId} stats=${live.data?.stats} loading=${live.loading && !live.data} />
    </div>`}
  </section>`;
}

// ConfigureProject accepts changes only in these states (the server says so too).
const CONFIGURABLE = ["draft", "configuring"];

function LabelsCard({ projectId, config, status, onSaved }) {
  const [labels, setLabels] = useState(() => labelsOfConfig(config));
  const [newTag, setNewTag] = useState("");
  const [xml, setXml] = useState(config);
  useEffect(() => setXml(config), [config]);
  const [state, setState] = useState({ busy: false, error: null, message: "" });
  useEffect(() => setLabels(labelsOfConfig(config)), [config]);
  // An error is about what was sent: it goes once the admin changes anything.
  const edit = (next) => {
    setLabels(next);
    setState((s) => ({ ...s, error: null }));
  };
  const editable = CONFIGURABLE.includes(status);

  const update = (index, change) => edit(labels.map((l, i) => (i === index ? { ...l, ...change } : l)));
  const add = (event) => {
    event.preventDefault();
    if (!newTag.trim()) return;
    edit([...labels, { tag: newTag.trim(), color: "" }]);
    setNewTag("");
  };
  // ready: also mark the project ready; asXml: send the edited config instead of the labels.
  const save = async (ready, asXml = false) => {
    setState({ busy: true, error: null, message: "" });
    try {
      const body = asXml
        ? { label_config: xml, ready }
        : { labels: labels.map((l) => (l.color ? { tag: l.tag, color: l.color } : { tag: l.tag })), ready };
      const saved = await post(`/api/v1/projects/${encodeURIComponent(projectId)}/configure`, body);
      setState({ busy: false, error: null, message: `Saved: the project is ${saved.status.replace("_", " ")}.` });
      onSaved();
    } catch (error) {
      setState({ busy: false, error, message: "" });
    }
  };
  return html`<article class="card" id="labels-card">
    <h2>Labels</h2>
    ${!editable && html`<p class="readonly-note" id="labels-readonly">
      Read-only: the project is ${status.replace("_", " ")}. Labels can change only while a project is
      draft or configuring, before any task is handed out, so that every annotation of the project
      uses the same labels.</p>`}
    <ul class="labels">
      ${labels.map(
        (label, index) => html`<li>
          <input type="color" value=${label.color || "#888888"} aria-label="colour" disabled=${!editable}
            onInput=${(e) => update(index, { color: e.currentTarget.value.toUpperCase() })} />
          <input class="label-name" value=${label.tag} aria-label="label" readOnly=${!editable}
            onInput=${(e) => update(index, { tag: e.currentTarget.value })} />
          ${editable && html`<button type="button" class="link" onClick=${() => edit(labels.filter((_, i) => i !== index))}>Remove</button>`}
        </li>`,
      )}
    </ul>
    ${editable && html`<form class="inline" onSubmit=${add}>
      <input id="new-label" value=${newTag} onInput=${(e) => setNewTag(e.currentTarget.value)} placeholder="New label" />
      <button type="submit">Add</button>
    </form>`}
    ${editable && html`<div class="actions wrap">
      <button type="button" id="save-labels" onClick=${() => save(false)} disabled=${state.busy}>Save labels</button>
      <button type="button" class="primary" id="mark-ready" onClick=${() => save(true)} disabled=${state.busy}>
        Save and mark ready
      </button>
    </div>`}
    <details class="config-xml" id="config-xml">
      <summary>Label config (Label Studio XML)</summary>
      <textarea id="label-config" rows="8" spellcheck="false" readOnly=${!editable} value=${xml}
        onInput=${(e) => { setXml(e.currentTarget.value); setState((s) => ({ ...s, error: null })); }}></textarea>
      ${editable && html`<button type="button" id="save-config" onClick=${() => save(false, true)} disabled=${state.busy}>Save config</button>`}
    </details>
    <p class="subtle">Status now: ${status.replace("_", " ")}</p>
    ${state.message && html`<p class="notice-inline" id="labels-saved">${state.message}</p>`}
    <${ErrorBox} error=${state.error} />
  </article>`;
}

/** Tasks nobody holds that are not completed, from the progress figures. */
function freeTasks(progress) {
  const open = progress.pending_tasks + progress.in_progress_tasks;
  const held = progress.annotators.reduce((sum, a) => sum + a.assigned_count - a.completed_count, 0);
  return Math.max(0, open - held);
}

/** Why an assignment gave nobody anything, from what the progress says now. */
function whyNothing(progress, name) {
  const free = freeTasks(progress);
  if (free === 0) {
    return `Assigned 0 to ${name}: every task that is not completed is already assigned to someone. ` +
      "Take tasks back from an annotator (unassign) to hand them to another.";
  }
  return `Assigned 0 to ${name}: the ${free} task${free === 1 ? "" : "s"} still free ${free === 1 ? "was" : "were"} skipped by ${name} ` +
    "earlier, and a task an annotator skipped is not given back to them. Assign them to another annotator.";
}

function AssignCard({ projectId, progress, onAssigned }) {
  const users = useLoad(() => get("/api/v1/users", { role: "annotator" }), []);
  const [selected, setSelected] = useState([]);
  const [mode, setMode] = useState("count");
  const [count, setCount] = useState(10);
  const [state, setState] = useState({ busy: false, error: null, message: "", reasons: [] });
  const assigned = progress.annotators.reduce((sum, a) => sum + a.assigned_count, 0);
  const unassigned = Math.max(0, progress.total_tasks - assigned);
  // An error about the project's state goes once the state has changed, one about
  // the choice once the choice changes.
  useEffect(() => setState((s) => ({ ...s, error: null })), [progress.status]);
  const choose = (change) => {
    change();
    setState((s) => ({ ...s, error: null }));
  };

  const toggle = (userId) =>
    choose(() => setSelected(selected.includes(userId) ? selected.filter((u) => u !== userId) : [...selected, userId]));
  const shares = () =>
    mode === "count"
      ? selected.map(() => Number(count))
      : selected.map((_, i) => Math.floor(unassigned / selected.length) + (i < unassigned % selected.length ? 1 : 0));

  const assign = async (event) => {
    event.preventDefault();
    setState({ busy: true, error: null, message: "", reasons: [] });
    const names = Object.fromEntries((users.data?.users ?? []).map((u) => [u.user_id, u.username]));
    const done = [];
    const none = [];
    try {
      const counts = shares();
      for (const [index, annotatorId] of selected.entries()) {
        if (counts[index] <= 0) continue;
        const answer = await post(`/api/v1/projects/${encodeURIComponent(projectId)}/assignments`, {
          annotator_id: annotatorId,
          count: counts[index],
        });
        if (Number(answer.assigned_count) > 0) done.push(`${answer.assigned_count} to ${names[annotatorId]}`);
        else none.push(names[annotatorId]);
      }
      let reasons = [];
      if (none.length) {
        const now = await get(`/api/external/projects/${encodeURIComponent(projectId)}/progress`);
        reasons = none.map((name) => whyNothing(now, name));
      }
      const message = done.length
        ? `Assigned ${done.join(", ")}.`
        : none.length
          ? ""
          : "Nothing to assign: every task that is not completed is already assigned (the figures below are live).";
      setState({ busy: false, error: null, message, reasons });
    } catch (error) {
      setState({ busy: false, error, message: done.length ? `Assigned ${done.join(", ")} before the error.` : "", reasons: [] });
    }
    onAssigned();
  };

  return html`<article class="card" id="assign-card">
    <h2>Assign tasks</h2>
    <p class="subtle">${unassigned} of ${progress.total_tasks} tasks not assigned yet.</p>
    ${users.loading && html`<${Loading} what="Loading annotators" />`}
    <${ErrorBox} error=${users.error} onRetry=${users.reload} />
    <form onSubmit=${assign}>
      <ul class="annotators">
        ${(users.data?.users ?? []).map(
          (user) => html`<li><label>
            <input type="checkbox" name="annotator" value=${user.username} checked=${selected.includes(user.user_id)}
              onChange=${() => toggle(user.user_id)} />
            ${user.username}
          </label></li>`,
        )}
        ${users.data && users.data.users.length === 0 && html`<li class="empty">No annotator yet.</li>`}
      </ul>
      <div class="modes">
        <label><input type="radio" name="mode" value="count" checked=${mode === "count"} onChange=${() => choose(() => setMode("count"))} />
          <input type="number" id="assign-count" min="1" value=${count} onInput=${(e) => choose(() => setCount(e.currentTarget.value))}
            disabled=${mode !== "count"} /> tasks each</label>
        <label><input type="radio" name="mode" value="split" checked=${mode === "split"} onChange=${() => choose(() => setMode("split"))} />
          split the unassigned tasks evenly</label>
      </div>
      <button type="submit" class="primary" id="assign" disabled=${state.busy || selected.length === 0}>Assign</button>
    </form>
    ${state.message && html`<p class="notice-inline" id="assign-result">${state.message}</p>`}
    ${state.reasons.map((reason) => html`<p class="readonly-note assign-none">${reason}</p>`)}
    <${ErrorBox} error=${state.error} />
  </article>`;
}

function ProgressCard({ progress }) {
  const rows = progress.annotators.map((a) => ({
    label: a.username,
    parts: [
      { value: a.completed_count, kind: "completed" },
      { value: a.in_progress_count, kind: "in_progress" },
      { value: Math.max(0, a.assigned_count - a.completed_count - a.in_progress_count), kind: "pending" },
    ],
  }));
  return html`<article class="card wide" id="progress-card">
    <h2>Progress</h2>
    <${ProgressBar} done=${progress.completed_tasks} total=${progress.total_tasks}
      label=${`${progress.completion_percentage}% · ${progress.completed_tasks} completed, ${progress.in_progress_tasks} in progress, ${progress.pending_tasks} pending`} />
    <div class="table-scroll"><table class="grid" id="annotator-progress">
      <thead><tr><th>Annotator</th><th>Assigned</th><th>In progress</th><th>Completed</th><th>Completion</th></tr></thead>
      <tbody>
        ${progress.annotators.length === 0 && html`<tr><td colspan="5" class="empty">No task assigned yet.</td></tr>`}
        ${progress.annotators.map(
          (a) => html`<tr data-annotator=${a.username}>
            <td>${a.username}</td><td>${a.assigned_count}</td><td>${a.in_progress_count}</td>
            <td>${a.completed_count}</td><td>${a.completion_rate}%</td>
          </tr>`,
        )}
      </tbody>
    </table></div>
    ${rows.length > 0 && html`<${BarChart} rows=${rows} legend=${[
      { kind: "completed", label: "completed" },
      { kind: "in_progress", label: "in progress" },
      { kind: "pending", label: "not started" },
    ]} />`}
  </article>`;
}

/** ConfigureProject with the version alone: allowed in every status. */
function PrelabelChooser({ projectId, versions }) {
  const [version, setVersion] = useState("");
  const [state, setState] = useState({ busy: false, error: null, message: "" });
  const use = async (event) => {
    event.preventDefault();
    setState({ busy: true, error: null, message: "" });
    try {
      const saved = await post(`/api/v1/projects/${encodeURIComponent(projectId)}/configure`, {
        prelabel_model_version: version,
      });
      const chosen = saved.prelabel_model_version;
      setState({
        busy: false,
        error: null,
        message: chosen ? `New tasks open pre-labelled by ${chosen}.` : "New tasks open pre-labelled by the most recently imported version.",
      });
    } catch (error) {
      setState({ busy: false, error, message: "" });
    }
  };
  return html`<form class="inline prelabel-chooser" id="prelabel-chooser" onSubmit=${use}>
    <label>Pre-label tasks with
      <select id="prelabel-model" value=${version}
        onChange=${(e) => { setVersion(e.currentTarget.value); setState((s) => ({ ...s, error: null })); }}>
        <option value="">the most recently imported version</option>
        ${versions.map((v) => html`<option value=${v}>${v}</option>`)}
      </select>
    </label>
    <button type="submit" disabled=${state.busy}>Use</button>
    ${state.message && html`<span class="notice-inline" id="prelabel-chosen">${state.message}</span>`}
    <${ErrorBox} error=${state.error} />
  </form>`;
}

function StatsCard({ projectId, stats, loading }) {
  return html`<article class="card wide" id="stats-card">
    <h2>Predictions by model</h2>
    ${loading && html`<${Loading} what="Loading prediction statistics" />`}
    ${stats && stats.models.some((m) => m.model_version) && html`<${PrelabelChooser} projectId=${projectId}
      versions=${stats.models.map((m) => m.model_version).filter(Boolean)} />`}
    ${stats && html`<div class="table-scroll"><table class="grid" id="prediction-stats">
      <thead><tr>
        <th>Model version</th><th>Predictions</th><th>Tasks covered</th><th>Annotations from a pre-label</th>
        <th>Accepted unchanged</th><th>Modified</th><th>Annotated without it</th>
        <th>Median time with pre-label</th><th>without</th>
      </tr></thead>
      <tbody>
        ${stats.models.length === 0 && html`<tr><td colspan="9" class="empty">No prediction imported.</td></tr>`}
        ${stats.models.map(
          (m) => html`<tr data-model=${m.model_version ?? ""}>
            <td>${m.model_version ?? html`<span class="subtle">no version</span>`}</td><td>${m.predictions}</td><td>${m.tasks_covered}</td>
            <td>${m.annotations_from_prediction}</td><td class="accepted">${m.accepted_unchanged}</td>
            <td class="modified">${m.modified}</td><td>${m.annotated_without_prediction_use}</td>
            <td>${formatSeconds(m.median_lead_time_with_prelabel_seconds)}</td>
            <td>${formatSeconds(m.median_lead_time_without_prelabel_seconds)}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>`}
  </article>`;
}
