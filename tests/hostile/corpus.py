"""Hostile inputs kept as a corpus: each is sent over REST to a real serve process.

Every entry says what a careful server answers: the status, the error_code and,
where the rule names one, details.field. None of them may be a 5xx, and none may
make the server's memory jump (tests/hostile/test_corpus.py checks the peak).

Targets are filled in per run: {project} is a project with two image tasks,
{annotator} an annotator's user id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

INIT = "/api/external/projects/init"
TASKS = "/api/external/projects/{project}/tasks"
EXPORT = "/api/external/projects/{project}/export"
ASSIGN = "/api/v1/projects/{project}/assignments"
PREDICTIONS = "/api/v1/projects/{project}/predictions/import"
ANNOTATIONS = "/api/v1/projects/{project}/annotations/import"
CONFIGURE = "/api/v1/projects/{project}/configure"


@dataclass(frozen=True)
class Hostile:
    """One hostile request and its documented answer."""

    name: str
    method: str
    path: str
    status: int | frozenset[int]
    error_code: str | None = None  # None: a success (or the status alone is checked)
    error_field: str | None = None
    json: object = None
    content: bytes | None = None
    content_type: str | None = None
    file: bytes | None = None  # sent as the multipart part "file"
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def _init(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "hostile",
        "task_type": "object_detection",
        "data": [{"id": "a", "content": "https://img.example/a.jpg"}],
        "tags": [{"tag": "cat"}],
    }
    return {**body, **changes}


def _aap(*predictions: dict[str, object]) -> bytes:
    task = {"task_match": {"external_id": "a"}, "predictions": list(predictions)}
    return orjson.dumps({"schema_version": "1.0", "tasks": [task]})


def _box(**geometry: object) -> dict[str, object]:
    return {"geometry": {"type": "bbox", **geometry}, "class_name": "cat"}


def _deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def _label_studio(result_value: object) -> bytes:
    result = {
        "from_name": "label",
        "to_name": "image",
        "type": "rectanglelabels",
        "value": result_value,
    }
    task = {
        "id": 1,
        "data": {"image": "https://img.example/a.jpg"},
        "annotations": [{"result": [result]}],
    }
    return orjson.dumps([task])


BAD_REQUEST = 400
# a per-entry problem of an import is reported in its answer (200) or the file is refused
IMPORT_ANSWERS = frozenset({200, 400, 422})

CORPUS: tuple[Hostile, ...] = (
    # deep nesting
    Hostile(
        "deep init body",
        "POST",
        INIT,
        400,
        "INVALID_REQUEST",
        content=b'{"name": ' + _deep(20_000) + b"}",
        content_type="application/json",
    ),
    Hostile(
        "deep metadata",
        "POST",
        INIT,
        400,
        "INVALID_REQUEST",
        content=orjson.dumps(_init())[:-1] + b', "x": ' + _deep(5_000) + b"}",
        content_type="application/json",
    ),
    Hostile(
        "metadata 65 levels",
        "POST",
        INIT,
        400,
        "INVALID_REQUEST",
        "data[0].metadata",
        json=_init(
            data=[
                {
                    "id": "a",
                    "content": "https://img.example/a.jpg",
                    "metadata": orjson.loads(b'{"a":' * 65 + b"1" + b"}" * 65),
                }
            ]
        ),
    ),
    Hostile(
        "deep prediction file",
        "POST",
        PREDICTIONS,
        400,
        "INVALID_REQUEST",
        "file",
        file=_deep(40_000),
        params={"format": "aap_json"},
    ),
    Hostile(
        "deep annotation file",
        "POST",
        ANNOTATIONS,
        400,
        "INVALID_REQUEST",
        "file",
        file=_deep(40_000),
        params={"format": "label_studio_json", "annotator_id": "{annotator}"},
    ),
    # huge numbers
    Hostile(
        "page_size beyond int32",
        "GET",
        TASKS,
        400,
        "INVALID_REQUEST",
        "page_size",
        params={"page_size": "99999999999999999999"},
    ),
    Hostile(
        "page_size 1e308",
        "GET",
        TASKS,
        400,
        "INVALID_REQUEST",
        "page_size",
        params={"page_size": "1e308"},
    ),
    Hostile(
        "count beyond the limit",
        "POST",
        ASSIGN,
        400,
        "INVALID_REQUEST",
        "count",
        json={"annotator_id": "{annotator}", "count": 100_001},
    ),
    Hostile(
        "count beyond int32",
        "POST",
        ASSIGN,
        400,
        "INVALID_REQUEST",
        json={"annotator_id": "{annotator}", "count": 2**40},
    ),
    Hostile(
        "integer beyond 64 bits in a prediction file",
        "POST",
        PREDICTIONS,
        IMPORT_ANSWERS,
        file=_aap(_box(x=0.125, y=0.1, w=0.2, h=0.2)).replace(b"0.125", b"1" + b"0" * 30),
        params={"format": "aap_json"},
    ),
    Hostile(
        "1e308 coordinates",
        "POST",
        PREDICTIONS,
        IMPORT_ANSWERS,
        file=_aap(_box(x=1e308, y=0.1, w=1e308, h=0.2)),
        params={"format": "aap_json"},
    ),
    Hostile(
        "1e308 coordinates, Label Studio",
        "POST",
        ANNOTATIONS,
        IMPORT_ANSWERS,
        file=_label_studio(
            {"x": 1e308, "y": 0, "width": 1e308, "height": 10, "rectanglelabels": ["cat"]}
        ),
        params={"format": "label_studio_json", "annotator_id": "{annotator}"},
    ),
    # negative sizes
    Hostile(
        "negative page_size",
        "GET",
        TASKS,
        400,
        "INVALID_REQUEST",
        "page_size",
        params={"page_size": "-1"},
    ),
    Hostile(
        "negative count",
        "POST",
        ASSIGN,
        400,
        "INVALID_REQUEST",
        json={"annotator_id": "{annotator}", "count": -5},
    ),
    Hostile(
        "negative width",
        "POST",
        PREDICTIONS,
        IMPORT_ANSWERS,
        file=_aap(_box(x=0.5, y=0.5, w=-0.2, h=0.1)),
        params={"format": "aap_json"},
    ),
    Hostile(
        "negative Label Studio size",
        "POST",
        ANNOTATIONS,
        IMPORT_ANSWERS,
        file=_label_studio(
            {"x": -50, "y": 0, "width": -10, "height": 10, "rectanglelabels": ["cat"]}
        ),
        params={"format": "label_studio_json", "annotator_id": "{annotator}"},
    ),
    # U+0000
    Hostile(
        "NUL in a name", "POST", INIT, 400, "INVALID_REQUEST", "name", json=_init(name="a\u0000b")
    ),
    Hostile(
        "NUL in a metadata key",
        "POST",
        INIT,
        400,
        "INVALID_REQUEST",
        "data[0].metadata",
        json=_init(
            data=[{"id": "a", "content": "https://img.example/a.jpg", "metadata": {"k\u0000": 1}}]
        ),
    ),
    Hostile(
        "NUL in a path id", "GET", "/api/external/projects/proj%00/progress", frozenset({400, 404})
    ),
    Hostile(
        "NUL in a prediction file",
        "POST",
        PREDICTIONS,
        IMPORT_ANSWERS,
        file=_aap({**_box(x=0.1, y=0.1, w=0.2, h=0.2), "class_name": "c\u0000t"}),
        params={"format": "aap_json"},
    ),
    Hostile(
        "NUL in a Label Studio file",
        "POST",
        ANNOTATIONS,
        IMPORT_ANSWERS,
        file=_label_studio(
            {"x": 1, "y": 1, "width": 10, "height": 10, "rectanglelabels": ["c\u0000t"]}
        ),
        params={"format": "label_studio_json", "annotator_id": "{annotator}"},
    ),
    # broken UTF-8 and broken JSON
    Hostile(
        "broken UTF-8 body",
        "POST",
        INIT,
        400,
        "INVALID_REQUEST",
        content=b'{"name": "\xff\xfe", "task_type": "object_detection"}',
        content_type="application/json",
    ),
    Hostile(
        "broken UTF-8 prediction file",
        "POST",
        PREDICTIONS,
        422,
        "INVALID_IMPORT_FILE",
        file=b'{"schema_version": "1.0", "tasks": [{"x": "\xff\xfe"}]}',
        params={"format": "aap_json"},
    ),
    Hostile(
        "trailing garbage",
        "POST",
        INIT,
        400,
        "INVALID_REQUEST",
        content=orjson.dumps(_init()) + b"x",
        content_type="application/json",
    ),
    Hostile(
        "JSON cut in half",
        "POST",
        PREDICTIONS,
        422,
        "INVALID_IMPORT_FILE",
        file=_aap(_box(x=0.1, y=0.1, w=0.2, h=0.2))[:30],
        params={"format": "aap_json"},
    ),
    Hostile(
        "NaN literal",
        "POST",
        PREDICTIONS,
        frozenset({200, 422}),
        file=b'{"schema_version": "1.0", "tasks": [{"task_match": {"external_id": "a"},'
        b' "predictions": [{"geometry": {"type": "bbox", "x": NaN, "y": 0, "w": 1,'
        b' "h": 1}, "class_name": "cat"}]}]}',
        params={"format": "aap_json"},
    ),
    # multipart
    Hostile(
        "truncated multipart",
        "POST",
        PREDICTIONS,
        400,
        "INVALID_REQUEST",
        "body",
        content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="p.json"'
        b'\r\n\r\n{"schema_version": "1.0", "tasks": []}',
        content_type="multipart/form-data; boundary=b",
        params={"format": "aap_json"},
    ),
    Hostile(
        "multipart without a file",
        "POST",
        PREDICTIONS,
        400,
        "INVALID_REQUEST",
        "file",
        content=b'--b\r\nContent-Disposition: form-data; name="format"\r\n\r\naap_json'
        b"\r\n--b--\r\n",
        content_type="multipart/form-data; boundary=b",
    ),
    Hostile(
        "not multipart",
        "POST",
        PREDICTIONS,
        400,
        "INVALID_REQUEST",
        "body",
        content=b"{}",
        content_type="application/json",
    ),
    Hostile(
        "empty file",
        "POST",
        PREDICTIONS,
        422,
        "INVALID_IMPORT_FILE",
        file=b"",
        params={"format": "aap_json"},
    ),
    # wrong types
    Hostile("name as a number", "POST", INIT, 400, "INVALID_REQUEST", "name", json=_init(name=123)),
    Hostile("data as a string", "POST", INIT, 400, "INVALID_REQUEST", "data", json=_init(data="x")),
    Hostile("tags as an object", "POST", INIT, 400, "INVALID_REQUEST", "tags", json=_init(tags={})),
    Hostile("body as a list", "POST", INIT, 400, "INVALID_REQUEST", json=[1, 2]),
    Hostile(
        "unknown task_type",
        "POST",
        INIT,
        400,
        "INVALID_TASK_TYPE",
        "task_type",
        json=_init(task_type="video"),
    ),
    Hostile(
        "unknown export format", "POST", EXPORT, 400, "INVALID_REQUEST", json={"format": "nope"}
    ),
    Hostile("label config not XML", "POST", CONFIGURE, 400, json={"label_config": "<View><Image"}),
    Hostile(
        "empty required body",
        "POST",
        INIT,
        400,
        "INVALID_REQUEST",
        "body",
        content=b"",
        content_type="application/json",
    ),
    # headers
    Hostile(
        "idempotency key too long",
        "POST",
        INIT,
        400,
        "INVALID_REQUEST",
        "idempotency-key",
        json=_init(),
        headers={"Idempotency-Key": "k" * 300},
    ),
    Hostile(
        "idempotency key not printable",
        "POST",
        INIT,
        400,
        "INVALID_REQUEST",
        "idempotency-key",
        json=_init(),
        headers={"Idempotency-Key": "k\tk"},
    ),
)
