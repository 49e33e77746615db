// Label Studio's front end (window.LabelStudio, 1.4.0) inside a page element.
//
// A task opens on the annotator's own annotation when there is one (to correct it);
// otherwise on a new annotation made from the task's first prediction, which the
// annotator edits like any annotation (Label Studio's "show predictions to
// annotators"); otherwise on an empty annotation.
import { html, useEffect, useRef } from "./lib.js";

function labelStudioTask(task, ownAnnotation) {
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
    annotations: ownAnnotation ? [{ id: ownAnnotation.annotation_id, result: ownAnnotation.result }] : [],
  };
}

/** Mount Label Studio on element; returns {result(), parentPredictionId, destroy()}. */
export function mountLabelStudio(element, { task, ownAnnotation, user, onReady }) {
  const handle = { parentPredictionId: null, store: null };
  const ready = (store) => {
    const annotations = store.annotationStore;
    if (!ownAnnotation && task.predictions.length > 0) {
      const first = String(task.predictions[0].prediction_id);
      const prediction = annotations.predictions.find((p) => p.pk === first);
      if (prediction) {
        const annotation = annotations.addAnnotationFromPrediction(prediction);
        annotations.selectAnnotation(annotation.id);
        handle.parentPredictionId = task.predictions[0].prediction_id;
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
    task: labelStudioTask(task, ownAnnotation),
    // Fired while the store is created, before the task's predictions are loaded.
    onLabelStudioLoad: (store) => setTimeout(() => ready(store), 0),
  });
  handle.result = () => {
    const selected = handle.store?.annotationStore?.selected;
    return selected ? selected.serializeAnnotation() : [];
  };
  handle.destroy = () => instance.destroy();
  return handle;
}

/** The Label Studio area; `handleRef.current` receives the mounted handle. */
export function LabelStudioArea({ task, ownAnnotation, user, handleRef, onReady }) {
  const element = useRef(null);
  useEffect(() => {
    const handle = mountLabelStudio(element.current, { task, ownAnnotation, user, onReady });
    handleRef.current = handle;
    return () => {
      handleRef.current = null;
      handle.destroy();
    };
  }, [task, ownAnnotation]);
  return html`<div class="ls-host" ref=${element}></div>`;
}
