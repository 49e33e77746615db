// The annotator's view: their queue, the next task in Label Studio, submit / skip,
// and corrections of their own earlier annotations.
import { get, patch, post } from "./api.js";
import { LabelStudioArea } from "./labeller.js";
import { html, useCallback, useEffect, useRef, useState } from "./lib.js";
import { ErrorBox, Loading, StatusBadge, formatTime, useLoad } from "./widgets.js";

const STATUSES = ["pending", "in_progress", "completed"];

function QueueCounts({ counts }) {
  return html`<div class="counts">
    ${STATUSES.map(
      (status) => html`<div class="count" data-status=${status}>
        <span class="count-value">${counts?.[status] ?? 0}</span>
        <span class="count-label">${status.replace("_", " ")}</span>
      </div>`,
    )}
  </div>`;
}

export function AnnotatorHome({ navigate, finished }) {
  const [filter, setFilter] = useState("");
  const queue = useLoad(() => get("/api/v1/me/tasks", { status: filter, page_size: 50 }), [filter]);
  const [next, setNext] = useState({ busy: false, error: null, empty: Boolean(finished) });

  const takeNext = useCallback(async () => {
    setNext({ busy: true, error: null, empty: false });
    try {
      const { task } = await post("/api/v1/me/next-task", {});
      navigate(`#/tasks/${task.task_id}`);
    } catch (error) {
      const empty = error.errorCode === "NO_TASK_AVAILABLE";
      setNext({ busy: false, error: empty ? null : error, empty });
    }
  }, [navigate]);

  return html`<section class="page">
    <header class="page-head">
      <h1>My queue</h1>
      <button type="button" class="primary" id="next-task" onClick=${takeNext} disabled=${next.busy}>
        ${next.busy ? "Finding a task…" : "Next task"}
      </button>
    </header>
    ${next.empty && html`<p class="notice-inline" id="queue-empty">Nothing left to label: your queue is empty.</p>`}
    <${ErrorBox} error=${next.error} />
    <${QueueCounts} counts=${queue.data?.counts} />
    <div class="toolbar">
      <label>Show
        <select value=${filter} onChange=${(e) => setFilter(e.currentTarget.value)}>
          <option value="">all my tasks</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s.replace("_", " ")}</option>`)}
        </select>
      </label>
      <button type="button" class="link" onClick=${queue.reload}>Refresh</button>
    </div>
    ${queue.loading && !queue.data && html`<${Loading} what="Loading your tasks" />`}
    <${ErrorBox} error=${queue.error} onRetry=${queue.reload} />
    ${queue.data && html`<table class="grid" id="my-tasks">
      <thead><tr><th>Task</th><th>Project</th><th>External id</th><th>Status</th><th>Updated</th><th></th></tr></thead>
      <tbody>
        ${queue.data.tasks.length === 0 && html`<tr><td colspan="6" class="empty">No tasks here.</td></tr>`}
        ${queue.data.tasks.map(
          (task) => html`<tr data-task=${task.display_id}>
            <td>${task.display_id}</td>
            <td>${task.project_name}</td>
            <td>${task.external_id}</td>
            <td><${StatusBadge} status=${task.status} /></td>
            <td>${formatTime(task.updated_at)}</td>
            <td><a href=${`#/tasks/${task.task_id}`}>${task.status === "completed" ? "Review / correct" : "Open"}</a></td>
          </tr>`,
        )}
      </tbody>
    </table>`}
  </section>`;
}

function isTyping(event) {
  const target = event.target;
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

/** Ctrl/⌘+Enter submits, Ctrl/⌘+Shift+S opens skip; caught before Label Studio's own keys. */
function useShortcuts(onSubmit, onSkip) {
  const handlers = useRef({ onSubmit, onSkip });
  handlers.current = { onSubmit, onSkip };
  useEffect(() => {
    const listener = (event) => {
      const modifier = event.ctrlKey || event.metaKey;
      if (modifier && event.key === "Enter" && !isTyping(event)) {
        event.preventDefault();
        event.stopImmediatePropagation();
        handlers.current.onSubmit();
      } else if (modifier && event.shiftKey && event.key.toLowerCase() === "s") {
        event.preventDefault();
        event.stopImmediatePropagation();
        handlers.current.onSkip();
      }
    };
    window.addEventListener("keydown", listener, true);
    return () => window.removeEventListener("keydown", listener, true);
  }, []);
}

export function TaskPage({ taskId, navigate }) {
  const loaded = useLoad(async () => {
    const { task } = await get(`/api/v1/tasks/${encodeURIComponent(taskId)}`);
    if (task.status === "pending") {
      await post(`/api/v1/tasks/${encodeURIComponent(taskId)}/start`, {});
      task.status = "in_progress";
    }
    return task;
  }, [taskId]);
  if (loaded.loading && !loaded.data) return html`<section class="page"><${Loading} what="Opening the task" /></section>`;
  if (loaded.error) {
    return html`<section class="page">
      <${ErrorBox} error=${loaded.error} onRetry=${loaded.reload} />
      <a href="#/queue">Back to my queue</a>
    </section>`;
  }
  // A new task is a new labelling session: fresh state, fresh Label Studio.
  return html`<${Labelling} key=${loaded.data.task_id} task=${loaded.data} navigate=${navigate} />`;
}

function Labelling({ task, navigate }) {
  const handle = useRef(null);
  const shownAt = useRef(performance.now());  // lead time: from display to submit
  const [ready, setReady] = useState(false);
  const [state, setState] = useState({ busy: false, error: null, done: null });
  const [skipping, setSkipping] = useState(false);
  const [reason, setReason] = useState("");
  const me = task.assignee;
  const ownAnnotation = me ? task.annotations.find((a) => a.annotator.user_id === me.user_id) : undefined;
  const correcting = Boolean(ownAnnotation);

  const leadTime = () => Math.round((performance.now() - shownAt.current) / 100) / 10;

  const moveOn = useCallback(async () => {
    try {
      const { task: following } = await post("/api/v1/me/next-task", {});
      navigate(`#/tasks/${following.task_id}`);
    } catch (error) {
      if (error.errorCode === "NO_TASK_AVAILABLE") navigate("#/queue?done=1");
      else setState({ busy: false, error, done: null });
    }
  }, [navigate]);

  const submit = useCallback(async () => {
    if (!handle.current || state.busy || !ready) return;
    setState({ busy: true, error: null, done: null });
    const result = handle.current.result();
    try {
      if (correcting) {
        await patch(`/api/v1/annotations/${encodeURIComponent(ownAnnotation.annotation_id)}`, {
          result,
          lead_time_seconds: leadTime(),
        });
        setState({ busy: false, error: null, done: "Your correction is saved." });
        return;
      }
      const body = { result, lead_time_seconds: leadTime() };
      if (handle.current.parentPredictionId) body.parent_prediction_id = handle.current.parentPredictionId;
      await post(`/api/v1/tasks/${encodeURIComponent(task.task_id)}/annotations`, body);
      await moveOn();
    } catch (error) {
      setState({ busy: false, error, done: null });
    }
  }, [task, ready, state.busy, correcting, moveOn]);

  const skip = useCallback(async () => {
    if (!reason.trim()) return;
    setState({ busy: true, error: null, done: null });
    try {
      await post(`/api/v1/tasks/${encodeURIComponent(task.task_id)}/skip`, { reason: reason.trim() });
      setSkipping(false);
      setReason("");
      await moveOn();
    } catch (error) {
      setState({ busy: false, error, done: null });
    }
  }, [task, reason, moveOn]);

  useShortcuts(submit, () => !correcting && setSkipping(true));

  return html`<section class="page labelling" data-task=${task.display_id} data-task-type=${task.task_type}
    data-ready=${ready ? "yes" : "no"}>
    <header class="page-head">
      <div>
        <h1>${task.display_id} <${StatusBadge} status=${task.status} /></h1>
        <p class="subtle">
          ${task.task_type.replace("_", " ")} · external id ${task.external_id}
          ${task.predictions.length > 0 && !correcting && html` · pre-label from model ${task.predictions[0].model_version}`}
          ${correcting && html` · correcting your annotation of ${formatTime(ownAnnotation.updated_at)}`}
        </p>
      </div>
      <div class="actions">
        <a href="#/queue" class="button">My queue</a>
        ${!correcting && html`<button type="button" id="skip" onClick=${() => setSkipping(true)} disabled=${state.busy}
          title="Ctrl+Shift+S">Skip…<kbd class="muted">Ctrl+Shift+S</kbd></button>`}
        <button type="button" class="primary" id="submit" onClick=${submit} disabled=${state.busy || !ready}
          title="Ctrl+Enter">${correcting ? "Save correction" : "Submit"}<kbd>Ctrl+Enter</kbd></button>
      </div>
    </header>
    ${skipping && html`<form class="skip-form" onSubmit=${(e) => { e.preventDefault(); skip(); }}>
      <label>Why skip this task?
        <input id="skip-reason" value=${reason} onInput=${(e) => setReason(e.currentTarget.value)}
          placeholder="e.g. image unreadable" autoFocus required maxLength="500" />
      </label>
      <button type="submit" id="confirm-skip" disabled=${!reason.trim() || state.busy}>Skip task</button>
      <button type="button" class="link" onClick=${() => setSkipping(false)}>Cancel</button>
    </form>`}
    <${ErrorBox} error=${state.error} />
    ${state.done && html`<p class="notice-inline" id="saved">${state.done}</p>`}
    ${!ready && html`<${Loading} what="Starting Label Studio" />`}
    <${LabelStudioArea} task=${task} ownAnnotation=${ownAnnotation} user=${me?.username}
      handleRef=${handle} onReady=${() => setReady(true)} />
  </section>`;
}
