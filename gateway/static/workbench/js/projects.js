// The admin's projects list, filterable by external_id and status.
import { get } from "./api.js";
import { html, useEffect, useState } from "./lib.js";
import { ErrorBox, Loading, ProgressBar, StatusBadge, formatTime } from "./widgets.js";

const STATUSES = ["draft", "configuring", "ready", "in_progress", "completed"];

export function ProjectsPage() {
  const [externalId, setExternalId] = useState("");
  const [status, setStatus] = useState("");
  const [applied, setApplied] = useState({ externalId: "", status: "" });
  const [pages, setPages] = useState({ projects: [], next: "", loading: true, error: null });

  const load = async (pageToken, append) => {
    setPages((p) => ({ ...p, loading: true, error: null }));
    try {
      const page = await get("/api/external/projects", {
        external_id: applied.externalId.trim(),
        status: applied.status,
        page_size: 50,
        page_token: pageToken,
      });
      setPages((p) => ({
        projects: append ? [...p.projects, ...page.projects] : page.projects,
        next: page.next_page_token,
        loading: false,
        error: null,
      }));
    } catch (error) {
      setPages((p) => ({ ...p, loading: false, error }));
    }
  };
  useEffect(() => {
    load("", false);
  }, [applied]);

  const applyFilter = (event) => {
    event.preventDefault();
    setApplied({ externalId, status });
  };

  return html`<section class="page">
    <header class="page-head"><h1>Projects</h1></header>
    <form class="toolbar" id="project-filter" onSubmit=${applyFilter}>
      <label>External id
        <input name="external_id" value=${externalId} onInput=${(e) => setExternalId(e.currentTarget.value)}
          placeholder="sample_center_proj_001" />
      </label>
      <label>Status
        <select name="status" value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
          <option value="">any</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s.replace("_", " ")}</option>`)}
        </select>
      </label>
      <button type="submit">Filter</button>
    </form>
    <${ErrorBox} error=${pages.error} onRetry=${() => load("", false)} />
    <div class="table-scroll"><table class="grid" id="projects">
      <thead><tr><th>Name</th><th>Task type</th><th>Status</th><th>External id</th><th class="wide">Progress</th><th>Created</th></tr></thead>
      <tbody>
        ${!pages.loading && pages.projects.length === 0 && html`<tr><td colspan="6" class="empty">No project matches.</td></tr>`}
        ${pages.projects.map(
          (p) => html`<tr data-project=${p.project_id}>
            <td><a href=${`#/projects/${p.project_id}`}>${p.name}</a></td>
            <td>${p.task_type.replace("_", " ")}</td>
            <td><${StatusBadge} status=${p.status} /></td>
            <td>${p.external_id ?? "–"}</td>
            <td><${ProgressBar} done=${p.completed_count} total=${p.task_count} /></td>
            <td>${formatTime(p.created_at)}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>
    ${pages.loading && html`<${Loading} what="Loading projects" />`}
    ${pages.next && !pages.loading && html`<button type="button" onClick=${() => load(pages.next, true)}>Load more</button>`}
  </section>`;
}
