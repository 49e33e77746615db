// Unsaved work survives a reload: a draft per task and user in this browser's
// local storage (never sent to the server). It is written whenever the result
// changes (checked every second, and when the page is hidden or unloaded) and
// removed when the annotation is submitted, corrected, or the task skipped.
import { useEffect, useRef } from "./lib.js";

const PREFIX = "annotation-workbench.draft.";
const CHECK_MS = 1000;

const keyOf = (userId, taskId) => `${PREFIX}${userId}.${taskId}`;

/** {result, parentPredictionId, modelVersion, savedAt} or null. */
export function readDraft(userId, taskId) {
  try {
    const draft = JSON.parse(localStorage.getItem(keyOf(userId, taskId)) || "null");
    return draft && Array.isArray(draft.result) ? draft : null;
  } catch {
    return null;
  }
}

export function dropDraft(userId, taskId) {
  localStorage.removeItem(keyOf(userId, taskId));
}

/**
 * While `active`, keep the draft of handleRef's result: from the first change
 * after Label Studio is ready (an untouched task leaves no draft).
 */
export function useDraft({ userId, taskId, handleRef, active, modelVersion }) {
  const baseline = useRef(null);
  useEffect(() => {
    if (!active || !userId) return undefined;
    baseline.current = JSON.stringify(handleRef.current?.result() ?? []);
    const save = () => {
      const handle = handleRef.current;
      if (!handle) return;
      const result = handle.result();
      const text = JSON.stringify(result);
      if (text === baseline.current) return;
      baseline.current = text;
      localStorage.setItem(
        keyOf(userId, taskId),
        JSON.stringify({
          result,
          parentPredictionId: handle.parentPredictionId,
          modelVersion,
          savedAt: new Date().toISOString(),
        }),
      );
    };
    const timer = setInterval(save, CHECK_MS);
    const onHide = () => document.visibilityState === "hidden" && save();
    window.addEventListener("pagehide", save);
    document.addEventListener("visibilitychange", onHide);
    return () => {
      clearInterval(timer);
      window.removeEventListener("pagehide", save);
      document.removeEventListener("visibilitychange", onHide);
    };
  }, [active, userId, taskId, modelVersion]);
}
