// Label Studio's front end (window.LabelStudio, 1.4.0) inside a page element.
//
// A task opens on, in this order: the annotator's unsaved draft (see drafts.js);
// their own annotation (to correct it); a new annotation made from one model
// version's whole prediction (every region of that version, as Label Studio's
// "show predictions to annotators" does), the version the project pre-labels
// with unless the annotator picked another; otherwise an empty annotation.
import { html, useEffect, useRef } from "./lib.js";

function labelStudioTask(task, start) {
  return {
    // Label Studio's task id is a number; ours is an opaque string.
    id: /^\d+$/.test(task.task_id) ? Number(task.task_id) : 1,
    data: task.data,
    predictions: task.predictions.map((p) => ({
      id: p.prediction_id,
      model_version: p.model_version,
      score: p.score,
      result: p.result,
    })),
    // A task opened without a prediction to start from gets its empty annotation here:
    // made later (addAnnotation once Label Studio is loaded), a Text tag's reaction
    // reads the missing annotation and Label Studio logs a TypeError.
    annotations:
      start.result || !start.predictionId
        ? [{ id: start.annotationId || "draft", result: start.result ?? [] }]
        : [],
  };
}

/** The image Label Studio shows, once loaded: its natural size, or null (text tasks). */
function naturalSize(element) {
  const image = element.querySelector("img");
  if (!image || !image.complete || !image.naturalWidth) return null;
  return { width: image.naturalWidth, height: image.naturalHeight };
}

/**
 * Mount Label Studio on element; returns a handle:
 * {result(), parentPredictionId, imageSize(), destroy()}.
 * start: {result, annotationId, parentPredictionId} to open on a stored or draft
 *        result, or {predictionId} to open on a new annotation made from that
 *        prediction (one model version's whole set of regions), or {} (empty).
 */
export function mountLabelStudio(element, { task, start, user, onReady }) {
  const handle = { parentPredictionId: start.parentPredictionId ?? null, store: null };
  const ready = (store) => {
    const annotations = store.annotationStore;
    if (!start.result && start.predictionId) {
      const prediction = annotations.predictions.find((p) => p.pk === String(start.predictionId));
      if (prediction) {
        const annotation = annotations.addAnnotationFromPrediction(prediction);
        annotations.selectAnnotation(annotation.id);
        handle.parentPredictionId = start.predictionId;
      }
    }
    if (!annotations.selected || annotations.selected.type !== "annotation") {
      const annotation = annotations.addAnnotation({ userGenerate: true });
      annotations.selectAnnotation(annotation.id);
    }
    handle.store = store;
    onReady?.();
  };
  const instance = new window.LabelStudio(element, {
    config: task.label_config,
    interfaces: ["panel", "side-column", "annotations:current"],
    user: { id: 1, username: user || "annotator" },
    task: labelStudioTask(task, start),
    // Fired while the store is created, before the task's predictions are loaded.
    onLabelStudioLoad: (store) => setTimeout(() => ready(store), 0),
  });
  handle.result = () => {
    const selected = handle.store?.annotationStore?.selected;
    return selected ? selected.serializeAnnotation() : [];
  };
  handle.imageSize = () => naturalSize(element);
  handle.destroy = () => instance.destroy();
  return handle;
}

/** The Label Studio area; `handleRef.current` receives the mounted handle. */
export function LabelStudioArea({ task, start, user, handleRef, onReady }) {
  const element = useRef(null);
  useEffect(() => {
    const handle = mountLabelStudio(element.current, { task, start, user, onReady });
    handleRef.current = handle;
    return () => {
      handleRef.current = null;
      handle.destroy();
    };
  }, [task, start]);
  return html`<div class="ls-host" ref=${element}></div>`;
}
