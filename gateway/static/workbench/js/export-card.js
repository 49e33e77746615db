// The project's export buttons, one per format its task type supports, the
// export's options (completed only, accepted only, ground truth only, consensus),
// and what the export says it could not write completely (its warnings, by task).
import { download, post } from "./api.js";
import { html, useState } from "./lib.js";
import { ErrorBox } from "./widgets.js";

function ExportWarnings({ warnings }) {
  if (!warnings?.length) return null;
  return html`<div class="warnings" id="export-warnings" role="status">
    <p><strong>${warnings.length} task${warnings.length === 1 ? "" : "s"} written incompletely:</strong></p>
    <ul>${warnings.map(
      (w) => html`<li data-task=${w.display_id}><strong>${w.display_id}</strong>: ${w.message}</li>`,
    )}</ul>
  </div>`;
}

export function ExportCard({ projectId, taskType, formats }) {
  const [completedOnly, setCompletedOnly] = useState(true);
  // The quality options are sent only when ticked: an unticked one is the default.
  const [options, setOptions] = useState({ accepted_only: false, ground_truth_only: false, consensus: false });
  const tick = (name) => (event) => setOptions({ ...options, [name]: event.currentTarget.checked });
  const chosen = Object.fromEntries(Object.entries(options).filter(([, on]) => on));
  const [state, setState] = useState({ busy: "", error: null, message: "", warnings: [] });
  const supported = formats.filter((f) => f.task_types.includes(taskType));
  const exportAs = async (format) => {
    setState({ busy: format, error: null, message: "", warnings: [] });
    try {
      const file = await post(`/api/external/projects/${encodeURIComponent(projectId)}/export`, {
        format,
        completed_only: completedOnly,
        ...chosen,
      });
      const saved = await download(file.file_url, file.file_name);
      setState({
        busy: "",
        error: null,
        message: `Downloaded ${saved.name}: ${file.total_exported} tasks, ${saved.size} bytes.`,
        warnings: file.warnings ?? [],
      });
    } catch (error) {
      setState({ busy: "", error, message: "", warnings: [] });
    }
  };
  return html`<article class="card" id="export-card">
    <h2>Export</h2>
    <label class="check"><input type="checkbox" checked=${completedOnly}
      onChange=${(e) => setCompletedOnly(e.currentTarget.checked)} /> completed tasks only</label>
    <label class="check"><input type="checkbox" id="export-accepted-only" checked=${options.accepted_only}
      onChange=${tick("accepted_only")} /> accepted by a reviewer only</label>
    <label class="check"><input type="checkbox" id="export-ground-truth-only" checked=${options.ground_truth_only}
      onChange=${tick("ground_truth_only")} /> ground-truth tasks only</label>
    <label class="check"><input type="checkbox" id="export-consensus" checked=${options.consensus}
      onChange=${tick("consensus")} /> consensus: one merged answer per task</label>
    <div class="actions wrap">
      ${supported.map(
        (f) => html`<button type="button" id=${`export-${f.format}`} onClick=${() => exportAs(f.format)}
          disabled=${Boolean(state.busy)}>${state.busy === f.format ? "Exporting…" : f.format.replace("_", " ").toUpperCase()}</button>`,
      )}
    </div>
    ${state.message && html`<p class="notice-inline" id="export-result">${state.message}</p>`}
    <${ExportWarnings} warnings=${state.warnings} />
    <${ErrorBox} error=${state.error} />
  </article>`;
}
