// Small shared pieces: loading and error states, progress bars, a bar chart.
import { html, useCallback, useEffect, useState } from "./lib.js";

/** Run load() now and whenever deps change; {data, error, loading, reload}. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { ...state, reload };
}

export function Loading({ what = "Loading" }) {
  return html`<p class="loading" role="status"><span class="spinner"></span>${what}…</p>`;
}

export function ErrorBox({ error, onRetry }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <strong>${error.message}</strong>
    <span class="error-code">${error.errorCode || ""}</span>
    ${onRetry && html`<button type="button" class="link" onClick=${onRetry}>Try again</button>`}
  </div>`;
}

export function ProgressBar({ done, total, label }) {
  const percent = total > 0 ? (100 * done) / total : 0;
  return html`<div class="progress" title=${`${done} of ${total}`}>
    <div class="progress-track"><div class="progress-fill" style=${{ width: `${percent}%` }}></div></div>
    <span class="progress-label">${label ?? `${done} / ${total}`}</span>
  </div>`;
}

export function StatusBadge({ status }) {
  return html`<span class=${`badge badge-${status}`}>${(status || "").replace("_", " ")}</span>`;
}

const REVIEW_WORDS = { pending: "in review", accepted: "accepted", rejected: "returned" };

/** Where an annotation stands in review; nothing when it is not reviewed. */
export function ReviewBadge({ status }) {
  if (!status) return null;
  return html`<span class=${`badge review-${status}`}>${REVIEW_WORDS[status] ?? status}</span>`;
}

/** A 0-1 score as a percentage, "–" when there is none. */
export function formatScore(score) {
  return score === null || score === undefined ? "–" : `${(100 * score).toFixed(1)}%`;
}

export function formatTime(timestamp) {
  if (!timestamp) return "–";
  return new Date(timestamp).toLocaleString();
}

export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  return seconds < 90 ? `${seconds.toFixed(1)} s` : `${(seconds / 60).toFixed(1)} min`;
}

/** Horizontal stacked bars: rows [{label, parts: [{value, kind}]}], kinds colour the parts. */
export function BarChart({ rows, legend }) {
  const total = Math.max(1, ...rows.map((row) => row.parts.reduce((sum, p) => sum + p.value, 0)));
  const rowHeight = 26;
  const labelWidth = 140;
  const width = 560;
  const scale = (width - labelWidth - 50) / total;
  return html`<figure class="chart">
    <svg width=${width} height=${rows.length * rowHeight + 4} viewBox=${`0 0 ${width} ${rows.length * rowHeight + 4}`} role="img" aria-label="per annotator">
      ${rows.map((row, index) => {
        let x = labelWidth;
        const y = index * rowHeight + 4;
        const sum = row.parts.reduce((acc, p) => acc + p.value, 0);
        return html`<g>
          <text x=${labelWidth - 8} y=${y + 14} text-anchor="end" class="chart-label">${row.label}</text>
          ${row.parts.map((part) => {
            const w = part.value * scale;
            const rect = html`<rect x=${x} y=${y} width=${w} height=${rowHeight - 8} class=${`bar-${part.kind}`}></rect>`;
            x += w;
            return rect;
          })}
          <text x=${x + 6} y=${y + 14} class="chart-value">${sum}</text>
        </g>`;
      })}
    </svg>
    <figcaption>${legend.map(
      (item) => html`<span class="legend"><i class=${`bar-${item.kind}`}></i>${item.label}</span>`,
    )}</figcaption>
  </figure>`;
}
