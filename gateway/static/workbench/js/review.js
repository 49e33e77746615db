// The review queue (reviewers and admins): the next annotation waiting for review
// (POST /api/v1/me/next-review) opens in Label Studio over the image or text, beside
// the pre-label it started from and the other annotators' answers to the same task.
// The reviewer accepts it, rejects it with a comment (the task goes back to its
// annotator), or edits it in Label Studio and corrects and accepts it in one step.
import { post } from "./api.js";
import { AnswerView } from "./answers.js";
import { LabelStudioArea } from "./labeller.js";
import { html, useCallback, useEffect, useMemo, useRef, useState } from "./lib.js";
import { ErrorBox, Loading, formatScore, formatTime } from "./widgets.js";

/** The verdict keys, as the buttons show them. */
export const REVIEW_KEYS = { accept: "Alt+A", reject: "Alt+R", correct: "Alt+C", send: "Ctrl+Enter" };
const KEY_CODES = { KeyA: "accept", KeyR: "reject", KeyC: "correct" };

/** Alt+A / Alt+R / Alt+C (by key position, so a Mac's Option characters do not matter). */
function useVerdictKeys(actions) {
  const current = useRef(actions);
  current.current = actions;
  useEffect(() => {
    const listener = (event) => {
      const action = event.altKey && !event.ctrlKey && !event.metaKey ? KEY_CODES[event.code] : undefined;
      if (!action) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      current.current[action]();
    };
    window.addEventListener("keydown", listener, true);
    return () => window.removeEventListener("keydown", listener, true);
  }, []);
}

export function ReviewPage({ projectId }) {
  const [queue, setQueue] = useState({ busy: true, item: null, error: null, empty: false });
  const [done, setDone] = useState("");
  const takeNext = useCallback(async () => {
    setQueue((q) => ({ ...q, busy: true, error: null }));
    try {
      const item = await post("/api/v1/me/next-review", projectId ? { project_id: projectId } : {});
      setQueue({ busy: false, item, error: null, empty: false });
    } catch (error) {
      const empty = error.errorCode === "NO_TASK_AVAILABLE";
      setQueue({ busy: false, item: null, error: empty ? null : error, empty });
    }
  }, [projectId]);
  useEffect(() => {
    takeNext();
  }, [takeNext]);
  const reviewed = (message) => {
    setDone(message);
    takeNext();
  };

  return html`<section class="page review" id="review-page">
    <header class="page-head">
      <div>
        <h1>Review queue</h1>
        <p class="subtle">${projectId ? "One project's annotations waiting for review" : "Annotations waiting for review in the projects you review"}</p>
      </div>
      <div class="actions"><button type="button" id="next-review" onClick=${takeNext} disabled=${queue.busy}>
        ${queue.busy ? "Finding an annotation…" : "Next annotation"}</button></div>
    </header>
    ${done && html`<p class="notice-inline" id="review-done">${done}</p>`}
    ${queue.empty && html`<p class="notice-inline" id="review-empty">Nothing waiting for review.</p>`}
    <${ErrorBox} error=${queue.error} onRetry=${takeNext} />
    ${queue.busy && !queue.item && html`<${Loading} what="Finding an annotation" />`}
    ${queue.item && html`<${Reviewing} key=${`${queue.item.annotation_id}.${queue.item.task.annotations.length}`}
      item=${queue.item} onReviewed=${reviewed} />`}
  </section>`;
}

function Reviewing({ item, onReviewed }) {
  const task = item.task;
  const annotation = task.annotations.find((a) => a.annotation_id === item.annotation_id);
  const others = task.annotations.filter(
    (a) => a.annotation_id !== item.annotation_id && !a.corrects_annotation_id,
  );
  const startedFrom = task.predictions.find((p) => p.prediction_id === annotation?.parent_prediction_id);
  const handle = useRef(null);
  const shownAt = useRef(performance.now());
  const [ready, setReady] = useState(false);
  const [rejecting, setRejecting] = useState(false);
  const [comment, setComment] = useState("");
  const [state, setState] = useState({ busy: false, error: null });
  const start = useMemo(
    () => ({ result: annotation?.result ?? [], annotationId: annotation?.annotation_id }),
    [annotation],
  );
  const onReady = useCallback(() => setReady(true), []);
  const author = annotation?.annotator.username ?? "";

  const send = async (body, message) => {
    if (state.busy) return;
    setState({ busy: true, error: null });
    try {
      const lead = Math.round((performance.now() - shownAt.current) / 100) / 10;
      await post(`/api/v1/annotations/${encodeURIComponent(item.annotation_id)}/review`, {
        ...body,
        lead_time_seconds: lead,
      });
      onReviewed(message);
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  const accept = () => send({ verdict: "accept" }, `Accepted ${author}'s answer to ${task.display_id}.`);
  const correct = () => {
    if (!ready || !handle.current) return;
    send(
      { verdict: "accept", corrected_result: handle.current.result() },
      `Corrected and accepted ${author}'s answer to ${task.display_id}.`,
    );
  };
  const reject = () => {
    if (!comment.trim()) return;
    send(
      { verdict: "reject", comment: comment.trim() },
      `Rejected ${author}'s answer to ${task.display_id}: it is back in their queue.`,
    );
  };
  useVerdictKeys({ accept, correct, reject: () => setRejecting(true) });

  if (!annotation) return html`<p class="error">The annotation ${item.annotation_id} is not in its task.</p>`;
  return html`<div class="reviewing" data-task=${task.display_id} data-annotation=${annotation.annotation_id}
    data-external-id=${task.external_id ?? ""} data-author=${author}
    data-ready=${ready ? "yes" : "no"}>
    <div class="review-head">
      <div>
        <h2>${task.display_id} <span class="subtle">by</span> <span id="review-author">${author}</span></h2>
        <p class="subtle">${task.task_type.replace("_", " ")} · external id ${task.external_id ?? "–"} ·
          submitted ${formatTime(annotation.updated_at)}
          ${task.agreement !== null && task.agreement !== undefined && html` · agreement <span id="task-agreement">${formatScore(task.agreement)}</span>`}</p>
      </div>
      <div class="actions wrap">
        <button type="button" class="primary" id="accept" onClick=${accept} disabled=${state.busy}
          title=${REVIEW_KEYS.accept}>Accept<kbd>${REVIEW_KEYS.accept}</kbd></button>
        <button type="button" id="reject" onClick=${() => setRejecting(true)} disabled=${state.busy}
          title=${REVIEW_KEYS.reject}>Reject…<kbd class="muted">${REVIEW_KEYS.reject}</kbd></button>
        <button type="button" id="correct" onClick=${correct} disabled=${state.busy || !ready}
          title=${REVIEW_KEYS.correct}>Correct and accept<kbd class="muted">${REVIEW_KEYS.correct}</kbd></button>
      </div>
    </div>
    ${annotation.review_comment && html`<p class="readonly-note">Earlier comment: ${annotation.review_comment}</p>`}
    ${rejecting && html`<form class="reject-form" id="reject-form" onSubmit=${(e) => { e.preventDefault(); reject(); }}>
      <label for="reject-comment">What should ${author} fix?</label>
      <textarea id="reject-comment" rows="2" maxLength="1000" required autoFocus value=${comment}
        onInput=${(e) => setComment(e.currentTarget.value)}
        onKeyDown=${(e) => {
          if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); e.stopPropagation(); reject(); }
          if (e.key === "Escape") setRejecting(false);
        }}></textarea>
      <div class="actions">
        <button type="submit" class="danger" id="confirm-reject" disabled=${!comment.trim() || state.busy}>
          Reject with comment<kbd>${REVIEW_KEYS.send}</kbd></button>
        <button type="button" class="link" onClick=${() => setRejecting(false)}>Cancel</button>
      </div>
    </form>`}
    <${ErrorBox} error=${state.error} />
    <div class="review-layout">
      <div class="review-main">
        <p class="subtle">Edit the answer here, then <strong>Correct and accept</strong>: the correction is
          recorded as yours and ${author}'s answer is kept.</p>
        ${!ready && html`<${Loading} what="Starting Label Studio" />`}
        <${LabelStudioArea} task=${task} start=${start} user=${author} handleRef=${handle} onReady=${onReady} />
      </div>
      <aside class="review-side">
        ${startedFrom
          ? html`<${AnswerView} id="review-prelabel" kind="prediction" task=${task} result=${startedFrom.result}
              title="Pre-label it started from" subtitle=${startedFrom.model_version ?? "no version"} />`
          : html`<p class="subtle" id="review-prelabel">Started without a pre-label.</p>`}
        ${others.map(
          (other) => html`<${AnswerView} kind="other" task=${task} result=${other.result}
            title=${other.annotator.username} subtitle=${other.review_status ?? ""} />`,
        )}
      </aside>
    </div>
  </div>`;
}
