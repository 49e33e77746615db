"""The NER and text-classification projects, with span and class-only pre-labels (AAP's
extension: geometry types `span` and `class`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from tests.realistic.common import (
    CLASSIFICATION_LABELS,
    CLASSIFIER_NEW,
    CLASSIFIER_OLD,
    NER_LABELS,
    NER_NEW,
    NER_OLD,
    Match,
    task_match,
)


@dataclass(frozen=True)
class Span:
    """A labelled span of a text: character offsets [start, end) (JavaScript's too: the
    texts hold no characters outside the Basic Multilingual Plane)."""

    label: str
    start: int
    end: int
    score: float = 1.0


@dataclass(frozen=True)
class TextItem:
    key: str
    text: str
    predictions: Mapping[str, tuple[Any, ...]]  # version -> Spans (NER) or (label, score)
    truth: tuple[Any, ...]  # Spans, or class labels; () is a negative


def _span(text: str, words: str, label: str, score: float = 1.0) -> Span:
    start = text.index(words)
    return Span(label, start, start + len(words), score)


_T1 = "Angela Merkel traf Emmanuel Macron in Paris."
_T2 = "Zoë Kravitz besuchte São Paulo im März, sagt Ärzte ohne Grenzen."
_T3 = "Das Wetter war schön."
NER_ITEMS: tuple[TextItem, ...] = (
    TextItem(
        key="ner-accept",
        text=_T1,
        predictions={
            NER_OLD: (_span(_T1, "Angela Merkel", "PER", 0.8),),
            NER_NEW: (
                _span(_T1, "Angela Merkel", "PER", 0.97),
                _span(_T1, "Emmanuel Macron", "PER", 0.95),
                _span(_T1, "Paris", "LOC", 0.9),
            ),
        },
        truth=(
            _span(_T1, "Angela Merkel", "PER"),
            _span(_T1, "Emmanuel Macron", "PER"),
            _span(_T1, "Paris", "LOC"),
        ),
    ),
    TextItem(
        key="ner-modify",
        text=_T2,
        predictions={
            NER_OLD: (_span(_T2, "São Paulo", "LOC", 0.7),),
            NER_NEW: (_span(_T2, "Zoë Kravitz", "PER", 0.9), _span(_T2, "São Paulo", "LOC", 0.85)),
        },
        truth=(
            _span(_T2, "Zoë Kravitz", "PER"),
            _span(_T2, "São Paulo", "LOC"),
            _span(_T2, "Ärzte ohne Grenzen", "ORG"),
        ),
    ),
    TextItem(
        key="ner-negative",
        text=_T3,
        predictions={NER_NEW: (_span(_T3, "Wetter", "ORG", 0.31),)},
        truth=(),
    ),
)
CLASSIFICATION_ITEMS: tuple[TextItem, ...] = (
    TextItem(
        key="cls-accept",
        text="The delivery was fast and the product works.",
        predictions={CLASSIFIER_OLD: (("positive", 0.7),), CLASSIFIER_NEW: (("positive", 0.95),)},
        truth=("positive",),
    ),
    TextItem(
        key="cls-modify",
        text="Broke after two days. Très déçu.",
        predictions={CLASSIFIER_OLD: (("positive", 0.55),), CLASSIFIER_NEW: (("neutral", 0.5),)},
        truth=("negative",),
    ),
    TextItem(
        key="cls-unpredicted",
        text="It is a phone.",
        predictions={},
        truth=("neutral",),
    ),
)


def text_init(task_type: Literal["ner", "text_classification"], **options: Any) -> dict[str, Any]:
    """The init body of the NER or the text-classification project."""
    items = NER_ITEMS if task_type == "ner" else CLASSIFICATION_ITEMS
    labels = NER_LABELS if task_type == "ner" else CLASSIFICATION_LABELS
    return {
        "name": options.get("name", f"{task_type} texts"),
        "task_type": task_type,
        "data": [{"id": item.key, "content": item.text} for item in items],
        "tags": [{"tag": label} for label in labels],
    }


# The AAP extension for text (this platform's, on top of v1.x): a `span` geometry (character
# offsets, `text` optional) and a class-only `class` geometry; the label is `class_name`.
def span_prediction(span: Span, text: str, *, model_version: str) -> dict[str, Any]:
    return {
        "geometry": {
            "type": "span",
            "start": span.start,
            "end": span.end,
            "text": text[span.start : span.end],
        },
        "class_name": span.label,
        "confidence": span.score,
        "model_version": model_version,
    }


def class_prediction(label: str, score: float, *, model_version: str) -> dict[str, Any]:
    return {
        "geometry": {"type": "class"},
        "class_name": label,
        "confidence": score,
        "model_version": model_version,
    }


def text_predictions(
    task_type: Literal["ner", "text_classification"],
    task_ids: Mapping[str, str],
    model_version: str,
    *,
    match: Match = "display_id",
) -> bytes:
    """An AAP JSON file with model_version's span (NER) or class pre-labels."""
    items = NER_ITEMS if task_type == "ner" else CLASSIFICATION_ITEMS
    tasks = []
    for item in items:
        predicted = item.predictions.get(model_version, ())
        if not predicted:
            continue
        if task_type == "ner":
            entries = [
                span_prediction(s, item.text, model_version=model_version) for s in predicted
            ]
        else:
            entries = [class_prediction(c, s, model_version=model_version) for c, s in predicted]
        tasks.append(
            {
                "task_match": task_match(item.key, task_ids, match, item.text),
                "predictions": entries,
            }
        )
    return orjson.dumps({"schema_version": "1.0", "tasks": tasks})
