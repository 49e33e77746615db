// The annotator's queue: counts by status, their tasks (a task a reviewer sent
// back is marked "returned", with the reviewer's comment), and "Next task"
// (the task itself opens in task.js).
import { follow, get, post } from "./api.js";
import { html, useCallback, useEffect, useState } from "./lib.js";
import { ErrorBox, Loading, ReviewBadge, StatusBadge, formatTime, useLoad } from "./widgets.js";

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

function linkText(task) {
  if (task.review_status === "rejected") return "Fix";
  return task.status === "completed" ? "Review / correct" : "Open";
}

export function AnnotatorHome({ navigate, finished }) {
  const [filter, setFilter] = useState("");
  const queue = useLoad(() => get("/api/v1/me/tasks", { status: filter, page_size: 50 }), [filter]);
  // The counts are pushed by the server (…/me/tasks/stream) as the queue changes (an admin
  // assigns or unassigns, a task is started or completed); the list follows them.
  const [live, setLive] = useState(null);
  const [liveError, setLiveError] = useState(null);
  useEffect(() => follow("/api/v1/me/tasks/stream", (event) => setLive(event.counts), setLiveError), []);
  const liveKey = live ? `${live.pending}/${live.in_progress}/${live.completed}` : "";
  useEffect(() => {
    if (liveKey) queue.reload();
  }, [liveKey]);
  const [next, setNext] = useState({ busy: false, error: null, empty: Boolean(finished) });
  // A reviewer may send a task back at any time: the list is read again when the
  // page becomes visible again.
  useEffect(() => {
    const onShow = () => document.visibilityState === "visible" && queue.reload();
    document.addEventListener("visibilitychange", onShow);
    return () => document.removeEventListener("visibilitychange", onShow);
  }, [queue.reload]);

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
    <${ErrorBox} error=${liveError} />
    <${QueueCounts} counts=${live ?? queue.data?.counts} />
    <div class="toolbar">
      <label>Show
        <select value=${filter} onChange=${(e) => setFilter(e.currentTarget.value)}>
          <option value="">all my tasks</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s.replace("_", " ")}</option>`)}
        </select>
      </label>
      <span class="subtle" id="live-state">${live && !liveError ? "● live" : "connecting…"}</span>
    </div>
    ${queue.loading && !queue.data && html`<${Loading} what="Loading your tasks" />`}
    <${ErrorBox} error=${queue.error} onRetry=${queue.reload} />
    ${queue.data && html`<div class="table-scroll"><table class="grid" id="my-tasks">
      <thead><tr><th>Task</th><th>Project</th><th>External id</th><th>Status</th><th>Updated</th><th></th></tr></thead>
      <tbody>
        ${queue.data.tasks.length === 0 && html`<tr><td colspan="6" class="empty">No tasks here.</td></tr>`}
        ${queue.data.tasks.map(
          (task) => html`<tr data-task=${task.display_id} data-review=${task.review_status ?? ""}
            class=${task.review_status === "rejected" ? "returned" : ""}>
            <td>${task.display_id}</td>
            <td>${task.project_name}</td>
            <td>${task.external_id}</td>
            <td><${StatusBadge} status=${task.status} /> <${ReviewBadge} status=${task.review_status} />
              ${task.review_status === "rejected" && task.review_comment &&
                html`<div class="review-comment-line">${task.review_comment}</div>`}</td>
            <td>${formatTime(task.updated_at)}</td>
            <td><a href=${`#/tasks/${task.task_id}`}>${linkText(task)}</a></td>
          </tr>`,
        )}
      </tbody>
    </table></div>`}
  </section>`;
}
