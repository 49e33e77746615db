// A project's quality control, for its admin: the settings (review, overlap,
// ground truth, IoU threshold), the reviewers, the review counts with agreement
// and ground-truth accuracy per annotator and per label, and which tasks are
// ground truth. Every figure comes from the API (progress, agreement, quality).
import { del, get, post } from "./api.js";
import { html, useEffect, useState } from "./lib.js";
import { ErrorBox, Loading, StatusBadge, formatScore, useLoad } from "./widgets.js";

const configure = (projectId, quality) =>
  post(`/api/v1/projects/${encodeURIComponent(projectId)}/configure`, { quality });

/** The form's text fields from the project's settings. */
const formOf = (quality) => ({
  review_mode: quality.review_mode ?? "off",
  review_share: String(quality.review_share ?? 1),
  annotations_per_task: String(quality.annotations_per_task ?? 1),
  ground_truth_rate: String(quality.ground_truth_rate ?? 0),
  iou_threshold: String(quality.iou_threshold ?? 0.5),
});

/**
 * ConfigureProject `quality`, allowed in every project status. The settings are
 * read the same way: a `quality` with no field changes nothing and answers with
 * every field set.
 */
export function QualitySettingsCard({ projectId, onSaved }) {
  const current = useLoad(() => configure(projectId, {}), [projectId]);
  const [form, setForm] = useState(null);
  const [state, setState] = useState({ busy: false, error: null, message: "" });
  useEffect(() => current.data && setForm(formOf(current.data.quality ?? {})), [current.data]);
  const change = (field) => (event) => {
    setForm({ ...form, [field]: event.currentTarget.value });
    setState((s) => ({ ...s, error: null, message: "" }));
  };
  const save = async (event) => {
    event.preventDefault();
    setState({ busy: true, error: null, message: "" });
    const quality = {
      review_mode: form.review_mode,
      annotations_per_task: Number(form.annotations_per_task),
      ground_truth_rate: Number(form.ground_truth_rate),
      iou_threshold: Number(form.iou_threshold),
    };
    if (form.review_mode === "sample") quality.review_share = Number(form.review_share);
    try {
      const saved = await configure(projectId, quality);
      setForm(formOf(saved.quality ?? {}));
      setState({ busy: false, error: null, message: "Quality settings saved." });
      onSaved();
    } catch (error) {
      setState({ busy: false, error, message: "" });
    }
  };
  return html`<article class="card" id="quality-settings">
    <h2>Quality settings</h2>
    ${current.loading && !form && html`<${Loading} what="Loading the settings" />`}
    <${ErrorBox} error=${current.error} onRetry=${current.reload} />
    ${form && html`<form class="settings" onSubmit=${save}>
      <label>Review
        <select id="review-mode" value=${form.review_mode} onChange=${change("review_mode")}>
          <option value="off">off: answers are final</option>
          <option value="all">every answer</option>
          <option value="sample">a share of the tasks</option>
        </select></label>
      ${form.review_mode === "sample" && html`<label>Share reviewed (0–1)
        <input id="review-share" type="number" min="0" max="1" step="0.05" value=${form.review_share}
          onInput=${change("review_share")} /></label>`}
      <label>Annotators per task (1–10)
        <input id="annotations-per-task" type="number" min="1" max="10" step="1" value=${form.annotations_per_task}
          onInput=${change("annotations_per_task")} /></label>
      <label>Ground-truth rate (0–1)
        <input id="ground-truth-rate" type="number" min="0" max="1" step="0.05" value=${form.ground_truth_rate}
          onInput=${change("ground_truth_rate")} /></label>
      <label>IoU threshold (0–1)
        <input id="iou-threshold" type="number" min="0" max="1" step="0.05" value=${form.iou_threshold}
          onInput=${change("iou_threshold")} /></label>
      <div><button type="submit" class="primary" id="save-quality" disabled=${state.busy}>Save quality settings</button></div>
    </form>`}
    ${state.message && html`<p class="notice-inline" id="quality-saved">${state.message}</p>`}
    <${ErrorBox} error=${state.error} />
  </article>`;
}

/** Add/Remove/ListProjectReviewers; candidates are the users whose role is reviewer. */
export function ReviewersCard({ projectId }) {
  const path = `/api/v1/projects/${encodeURIComponent(projectId)}/reviewers`;
  const reviewers = useLoad(() => get(path), [projectId]);
  const users = useLoad(() => get("/api/v1/users", { role: "reviewer" }), []);
  const [chosen, setChosen] = useState("");
  const [state, setState] = useState({ busy: false, error: null });
  const [list, setList] = useState(null);
  useEffect(() => reviewers.data && setList(reviewers.data.reviewers), [reviewers.data]);
  const change = async (action) => {
    setState({ busy: true, error: null });
    try {
      const answer = await action();
      setList(answer.reviewers);
      setState({ busy: false, error: null });
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  const add = (event) => {
    event.preventDefault();
    if (chosen) change(() => post(path, { user_ids: [chosen] }));
  };
  const remove = (userId) => change(() => del(path, { user_ids: userId }));
  const names = new Set((list ?? []).map((r) => r.user_id));
  const candidates = (users.data?.users ?? []).filter((u) => !names.has(u.user_id));
  return html`<article class="card" id="reviewers-card">
    <h2>Reviewers</h2>
    <${ErrorBox} error=${reviewers.error || users.error} onRetry=${() => { reviewers.reload(); users.reload(); }} />
    ${list && html`<ul class="annotators" id="reviewers">
      ${list.length === 0 && html`<li class="empty">No reviewer yet: only admins review this project.</li>`}
      ${list.map((r) => html`<li data-reviewer=${r.username}>${r.username}
        <button type="button" class="link" onClick=${() => remove(r.user_id)} disabled=${state.busy}>Remove</button></li>`)}
    </ul>`}
    <form class="inline" onSubmit=${add}>
      <select id="reviewer-choice" value=${chosen} onChange=${(e) => setChosen(e.currentTarget.value)}>
        <option value="">Choose a reviewer…</option>
        ${candidates.map((u) => html`<option value=${u.user_id}>${u.username}</option>`)}
      </select>
      <button type="submit" id="add-reviewer" disabled=${!chosen || state.busy}>Add</button>
    </form>
    <p class="subtle"><a href=${`#/review?project=${encodeURIComponent(projectId)}`} id="review-project">Review this project</a></p>
    <${ErrorBox} error=${state.error} />
  </article>`;
}

function LabelRows({ agreement, accuracy }) {
  const labels = [...new Set([...(agreement?.labels ?? []), ...(accuracy?.labels ?? [])].map((l) => l.label))].sort();
  const find = (list, label) => (list ?? []).find((l) => l.label === label);
  return html`<div class="table-scroll"><table class="grid" id="label-quality">
    <thead><tr><th>Label</th><th>Agreement</th><th>Compared</th><th>Ground-truth accuracy</th><th>Compared</th></tr></thead>
    <tbody>
      ${labels.length === 0 && html`<tr><td colspan="5" class="empty">No label scored yet.</td></tr>`}
      ${labels.map((label) => {
        const a = find(agreement?.labels, label);
        const g = find(accuracy?.labels, label);
        return html`<tr data-label=${label}><td>${label}</td>
          <td class="agreement">${formatScore(a?.score)}</td><td>${a?.count ?? 0}</td>
          <td class="accuracy">${formatScore(g?.score)}</td><td>${g?.count ?? 0}</td></tr>`;
      })}
    </tbody>
  </table></div>`;
}

/** Review counts (progress), agreement (GetAgreement) and accuracy (GetQualityReport). */
export function QualityCard({ projectId, progress, round }) {
  const id = encodeURIComponent(projectId);
  const scores = useLoad(
    () => Promise.all([get(`/api/v1/projects/${id}/agreement`), get(`/api/v1/projects/${id}/quality`)])
      .then(([agreement, accuracy]) => ({ agreement, accuracy })),
    [projectId, round],
  );
  const agreement = scores.data?.agreement;
  const accuracy = scores.data?.accuracy;
  const scoreOf = (list, userId) => (list ?? []).find((a) => a.user_id === userId);
  return html`<article class="card wide" id="quality-card">
    <h2>Review and quality</h2>
    <div class="counts">
      ${[
        ["review-pending", "waiting for review", progress.review_pending_count],
        ["accepted", "accepted", progress.accepted_count],
        ["rejected", "rejected, not yet fixed", progress.rejected_count],
        ["reviewed", "verdicts given", progress.reviewed_count],
        ["agreement", "agreement", formatScore(progress.agreement)],
        ["ground-truth-accuracy", "ground-truth accuracy", formatScore(progress.ground_truth_accuracy)],
      ].map(([key, label, value]) => html`<div class="count" data-count=${key}>
        <span class="count-value">${value ?? 0}</span><span class="count-label">${label}</span></div>`)}
    </div>
    ${scores.loading && !scores.data && html`<${Loading} what="Loading agreement and accuracy" />`}
    <${ErrorBox} error=${scores.error} onRetry=${scores.reload} />
    ${agreement && html`<p class="subtle" id="agreement-summary">
      ${agreement.tasks_scored} task${agreement.tasks_scored === 1 ? "" : "s"} with two or more answers ·
      IoU threshold ${agreement.iou_threshold}
      ${agreement.krippendorff_alpha !== null && html` · Krippendorff's α ${agreement.krippendorff_alpha.toFixed(3)}`}
      ${accuracy && html` · ${accuracy.ground_truth_tasks} ground-truth task${accuracy.ground_truth_tasks === 1 ? "" : "s"}`}</p>`}
    <div class="table-scroll"><table class="grid" id="annotator-quality">
      <thead><tr><th>Annotator</th><th>Waiting</th><th>Accepted</th><th>Rejected</th><th>Agreement</th>
        <th>Ground-truth accuracy</th><th>Precision</th><th>Recall</th></tr></thead>
      <tbody>
        ${progress.annotators.length === 0 && html`<tr><td colspan="8" class="empty">No annotator yet.</td></tr>`}
        ${progress.annotators.map((a) => {
          const gt = scoreOf(accuracy?.annotators, a.user_id);
          return html`<tr data-annotator=${a.username}>
            <td>${a.username}</td><td class="review-pending">${a.review_pending_count ?? 0}</td>
            <td class="accepted">${a.accepted_count ?? 0}</td><td class="rejected">${a.rejected_count ?? 0}</td>
            <td class="agreement">${formatScore(a.agreement)}</td><td class="accuracy">${formatScore(a.ground_truth_accuracy)}</td>
            <td>${formatScore(gt?.precision)}</td><td>${formatScore(gt?.recall)}</td></tr>`;
        })}
      </tbody>
    </table></div>
    <h3>Per label</h3>
    <${LabelRows} agreement=${agreement} accuracy=${accuracy} />
  </article>`;
}

/** SetGroundTruth on the tasks ticked in the project's task list (first 200 tasks). */
export function GroundTruthCard({ projectId, onChanged }) {
  const id = encodeURIComponent(projectId);
  const tasks = useLoad(() => get(`/api/external/projects/${id}/tasks`, { page_size: 200 }), [projectId]);
  const [ticked, setTicked] = useState([]);
  const [state, setState] = useState({ busy: false, error: null, message: "" });
  const toggle = (taskId) =>
    setTicked(ticked.includes(taskId) ? ticked.filter((t) => t !== taskId) : [...ticked, taskId]);
  const mark = async (groundTruth) => {
    setState({ busy: true, error: null, message: "" });
    try {
      const answer = await post(`/api/v1/projects/${id}/ground-truth`, { task_ids: ticked, ground_truth: groundTruth });
      setState({
        busy: false,
        error: null,
        message: `${groundTruth ? "Marked" : "Unmarked"} ${answer.changed_count}; the project has ${answer.ground_truth_tasks} ground-truth task${answer.ground_truth_tasks === 1 ? "" : "s"}.`,
      });
      setTicked([]);
      onChanged();
    } catch (error) {
      setState({ busy: false, error, message: "" });
    }
  };
  return html`<article class="card" id="ground-truth-card">
    <h2>Ground truth</h2>
    <p class="subtle">A ground-truth task's accepted (else latest) answer becomes its known answer; annotators
      get these tasks unmarked, at the ground-truth rate, and are scored against it.</p>
    <${ErrorBox} error=${tasks.error} onRetry=${tasks.reload} />
    ${tasks.data && html`<ul class="annotators task-picks">
      ${tasks.data.tasks.map((t) => html`<li><label>
        <input type="checkbox" name="ground-truth-task" value=${t.external_id ?? t.display_id}
          checked=${ticked.includes(t.task_id)} onChange=${() => toggle(t.task_id)} />
        ${t.display_id} <span class="subtle">${t.external_id ?? ""}</span> <${StatusBadge} status=${t.status} />
      </label></li>`)}
    </ul>`}
    <div class="actions wrap">
      <button type="button" id="mark-ground-truth" onClick=${() => mark(true)} disabled=${state.busy || !ticked.length}>Mark as ground truth</button>
      <button type="button" id="unmark-ground-truth" onClick=${() => mark(false)} disabled=${state.busy || !ticked.length}>Unmark</button>
    </div>
    ${state.message && html`<p class="notice-inline" id="ground-truth-result">${state.message}</p>`}
    <${ErrorBox} error=${state.error} />
  </article>`;
}
