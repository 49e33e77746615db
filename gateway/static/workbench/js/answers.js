// Read-only views of one answer (an annotation or a prediction): its regions
// drawn over the task's image, and listed by label, as the reviewer compares
// them side by side. Label Studio result values are in percent of the image.
import { html } from "./lib.js";

const percent = (value) => `${Number(value).toFixed(1)}%`;

/** One region of a Label Studio result as a line of text. */
export function describeRegion(region) {
  const value = region.value || {};
  const labels = value.rectanglelabels || value.polygonlabels || value.labels || value.choices || [];
  const names = labels.join(", ");
  if (region.type === "choices") return names;
  if (region.type === "labels") return `${names}: “${value.text ?? `${value.start}–${value.end}`}”`;
  if (region.type === "rectanglelabels") {
    return `${names} at ${percent(value.x)}, ${percent(value.y)} (${percent(value.width)} × ${percent(value.height)})`;
  }
  if (region.type === "polygonlabels") return `${names}: polygon of ${(value.points || []).length} points`;
  return names || region.type || "region";
}

/** The regions of an image answer over a copy of the image (SVG in percent coordinates). */
function Overlay({ image, result }) {
  const shapes = result.filter((r) => r.type === "rectanglelabels" || r.type === "polygonlabels");
  return html`<div class="overlay">
    <img src=${image} alt="" loading="lazy" />
    <svg viewBox="0 0 100 100" preserveAspectRatio="none" aria-hidden="true">
      ${shapes.map((region) => {
        const v = region.value;
        if (region.type === "rectanglelabels") {
          return html`<rect x=${v.x} y=${v.y} width=${v.width} height=${v.height} class="region"></rect>`;
        }
        return html`<polygon points=${(v.points || []).map((p) => p.join(",")).join(" ")} class="region"></polygon>`;
      })}
    </svg>
  </div>`;
}

/** A titled, read-only answer: the image with its regions (image tasks) and the region list. */
export function AnswerView({ title, subtitle, task, result, kind, id }) {
  const regions = Array.isArray(result) ? result : [];
  return html`<figure class=${`answer answer-${kind}`} id=${id}>
    <figcaption><strong>${title}</strong>${subtitle && html` <span class="subtle">${subtitle}</span>`}</figcaption>
    ${typeof task.data?.image === "string" && html`<${Overlay} image=${task.data.image} result=${regions} />`}
    ${regions.length === 0
      ? html`<p class="subtle">No regions (a negative).</p>`
      : html`<ol class="regions">${regions.map((r) => html`<li>${describeRegion(r)}</li>`)}</ol>`}
  </figure>`;
}
