// One task in Label Studio: the pre-label (one model version's whole set of
// regions, switchable to another version), submit / skip, corrections of the
// annotator's own earlier annotation, and the draft that survives a reload.
// A task a reviewer sent back shows the reviewer's comment above it and opens on
// the rejected answer; submitting it again sends it back for review. An accepted
// answer is final and read-only.
import { get, patch, post } from "./api.js";
import { dropDraft, readDraft, useDraft } from "./drafts.js";
import { LabelStudioArea } from "./labeller.js";
import { html, useCallback, useEffect, useMemo, useRef, useState } from "./lib.js";
import { ErrorBox, Loading, StatusBadge, formatTime, useLoad } from "./widgets.js";

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

const regionCount = (prediction) => (Array.isArray(prediction?.result) ? prediction.result.length : 0);

function versionLabel(prediction) {
  const regions = regionCount(prediction);
  const parts = [prediction.model_version || "no version", `${regions} region${regions === 1 ? "" : "s"}`];
  if (prediction.score !== null && prediction.score !== undefined) parts.push(`score ${prediction.score.toFixed(2)}`);
  return parts.join(" · ");
}

/** Label Studio's prediction tabs, as a selector: which model version pre-labels this task. */
function VersionPicker({ predictions, chosen, onChoose, disabled }) {
  return html`<label class="version-picker">Pre-label
    <select id="prelabel-version" value=${chosen ?? ""} disabled=${disabled}
      onChange=${(e) => onChoose(e.currentTarget.value || null)}>
      ${predictions.map((p) => html`<option value=${p.prediction_id}>${versionLabel(p)}</option>`)}
      <option value="">none (start empty)</option>
    </select>
  </label>`;
}

function ConfirmEmpty({ prediction, onConfirm, onCancel }) {
  return html`<div class="confirm" role="alertdialog" id="confirm-empty" aria-labelledby="confirm-empty-title">
    <p id="confirm-empty-title"><strong>Submit with no regions?</strong> ${"The pre-label from "}
      ${prediction.model_version || "the model"} had ${regionCount(prediction)} region${regionCount(prediction) === 1 ? "" : "s"}.
      An empty answer records that there is nothing to label here (a negative).</p>
    <div class="actions">
      <button type="button" class="primary" id="submit-empty" onClick=${onConfirm} autoFocus>Submit as negative</button>
      <button type="button" id="cancel-empty" onClick=${onCancel}>Keep labelling</button>
    </div>
  </div>`;
}

function Labelling({ task, navigate }) {
  const handle = useRef(null);
  const shownAt = useRef(performance.now());  // lead time: from display to submit
  const me = task.assignee;
  const ownAnnotation = me ? task.annotations.find((a) => a.annotator.user_id === me.user_id) : undefined;
  const returned = ownAnnotation?.review_status === "rejected";
  const accepted = ownAnnotation?.review_status === "accepted";
  // A returned answer is submitted again (the same annotation, reviewed again);
  // any other own answer is corrected in place, unless it was accepted (final).
  const correcting = Boolean(ownAnnotation) && !returned;
  const [draft, setDraft] = useState(() => (me ? readDraft(me.user_id, task.task_id) : null));
  const [chosen, setChosen] = useState(() => task.prelabel_prediction_id ?? null);
  const [ready, setReady] = useState(false);
  const [state, setState] = useState({ busy: false, error: null, done: null });
  const [skipping, setSkipping] = useState(false);
  // The pre-label an empty submit would discard, while asking to confirm it.
  const [confirming, setConfirming] = useState(null);
  const [reason, setReason] = useState("");
  const prediction = task.predictions.find((p) => p.prediction_id === chosen) ?? null;

  const start = useMemo(() => {
    if (draft) return { result: draft.result, parentPredictionId: draft.parentPredictionId };
    if (ownAnnotation) {
      return {
        result: ownAnnotation.result,
        annotationId: ownAnnotation.annotation_id,
        parentPredictionId: ownAnnotation.parent_prediction_id ?? null,
      };
    }
    return chosen ? { predictionId: chosen } : {};
  }, [draft, ownAnnotation, chosen]);
  const onReady = useCallback(() => setReady(true), []);
  useDraft({
    userId: me?.user_id,
    taskId: task.task_id,
    handleRef: handle,
    active: ready && !state.busy,
    modelVersion: prediction?.model_version ?? null,
  });

  const leadTime = () => Math.round((performance.now() - shownAt.current) / 100) / 10;
  const forget = () => me && dropDraft(me.user_id, task.task_id);

  const moveOn = useCallback(async () => {
    try {
      const { task: following } = await post("/api/v1/me/next-task", {});
      navigate(`#/tasks/${following.task_id}`);
    } catch (error) {
      if (error.errorCode === "NO_TASK_AVAILABLE") navigate("#/queue?done=1");
      else setState({ busy: false, error, done: null });
    }
  }, [navigate]);

  const submit = useCallback(async ({ emptyConfirmed = false } = {}) => {
    if (!handle.current || state.busy || !ready || accepted) return;
    const result = handle.current.result();
    const parentId = handle.current.parentPredictionId;
    const startedFrom = task.predictions.find((p) => p.prediction_id === parentId);
    if (!correcting && result.length === 0 && regionCount(startedFrom) > 0 && !emptyConfirmed) {
      setConfirming(startedFrom);
      return;
    }
    setConfirming(null);
    setState({ busy: true, error: null, done: null });
    try {
      if (correcting) {
        await patch(`/api/v1/annotations/${encodeURIComponent(ownAnnotation.annotation_id)}`, {
          result,
          lead_time_seconds: leadTime(),
        });
        forget();
        setState({ busy: false, error: null, done: "Your correction is saved." });
        return;
      }
      const body = { result, lead_time_seconds: leadTime() };
      if (parentId) body.parent_prediction_id = parentId;
      const size = handle.current.imageSize();
      if (size) Object.assign(body, { image_width: size.width, image_height: size.height });
      await post(`/api/v1/tasks/${encodeURIComponent(task.task_id)}/annotations`, body);
      forget();
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
      forget();
      setSkipping(false);
      setReason("");
      await moveOn();
    } catch (error) {
      setState({ busy: false, error, done: null });
    }
  }, [task, reason, moveOn]);

  const choose = (predictionId) => {
    forget();
    setDraft(null);
    setReady(false);
    setConfirming(null);
    setChosen(predictionId);
  };
  const discardDraft = () => {
    forget();
    setReady(false);
    setDraft(null);
  };

  useShortcuts(
    () => (confirming ? submit({ emptyConfirmed: true }) : submit()),
    () => !ownAnnotation && setSkipping(true),
  );

  return html`<section class="page labelling" data-task=${task.display_id} data-task-type=${task.task_type}
    data-external-id=${task.external_id ?? ""}
    data-ready=${ready ? "yes" : "no"}>
    <header class="page-head">
      <div>
        <h1>${task.display_id} <${StatusBadge} status=${task.status} /></h1>
        <p class="subtle">
          ${task.task_type.replace("_", " ")} · external id ${task.external_id}
          ${correcting && !accepted && html` · correcting your annotation of ${formatTime(ownAnnotation.updated_at)}`}
          ${ownAnnotation?.review_status === "pending" && html` · waiting for review`}
        </p>
      </div>
      <div class="actions wrap">
        ${!ownAnnotation && task.predictions.length > 0 && html`<${VersionPicker} predictions=${task.predictions}
          chosen=${draft ? draft.parentPredictionId : chosen} onChoose=${choose} disabled=${state.busy} />`}
        <a href="#/queue" class="button">My queue</a>
        ${!ownAnnotation && html`<button type="button" id="skip" onClick=${() => setSkipping(true)} disabled=${state.busy}
          title="Ctrl+Shift+S">Skip…<kbd class="muted">Ctrl+Shift+S</kbd></button>`}
        <button type="button" class="primary" id="submit" onClick=${() => submit()} disabled=${state.busy || !ready || accepted}
          title="Ctrl+Enter">${correcting ? "Save correction" : returned ? "Submit again" : "Submit"}<kbd>Ctrl+Enter</kbd></button>
      </div>
    </header>
    ${returned && html`<div class="returned-note" id="review-comment" role="note">
      <strong>Returned by ${ownAnnotation.reviewer?.username ?? "a reviewer"}${ownAnnotation.reviewed_at ? ` (${formatTime(ownAnnotation.reviewed_at)})` : ""}:</strong>
      <span class="comment">${ownAnnotation.review_comment ?? ""}</span>
      <span class="subtle">Fix your answer below and submit it again; it goes back to review.</span>
    </div>`}
    ${accepted && html`<p class="readonly-note" id="review-accepted">Accepted by
      ${ownAnnotation.reviewer?.username ?? "a reviewer"}: this answer is final and cannot change.</p>`}
    ${draft && html`<p class="notice-inline" id="draft-restored">Restored your unsaved work on this task
      (kept in this browser, ${formatTime(draft.savedAt)}).
      <button type="button" class="link" id="discard-draft" onClick=${discardDraft}>Discard it</button></p>`}
    ${confirming && html`<${ConfirmEmpty} prediction=${confirming}
      onConfirm=${() => submit({ emptyConfirmed: true })} onCancel=${() => setConfirming(null)} />`}
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
    <${LabelStudioArea} task=${task} start=${start} user=${me?.username}
      handleRef=${handle} onReady=${onReady} />
  </section>`;
}
