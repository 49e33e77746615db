"""Which answer the one-answer formats write (server/exports/answers.py)."""

from __future__ import annotations

from datetime import timedelta

import orjson

from server.exports.answers import CONSENSUS_ANNOTATOR, add_consensus, answer
from storage.export_records import ExportAnnotation, ExportTask
from tests.exports.samples import WHEN, choice, rectangle


def note(
    annotation_id: int,
    annotator: str,
    result: list,
    *,
    minutes: int = 0,
    review: str | None = None,
    corrects: int | None = None,
    known: bool = False,
) -> ExportAnnotation:
    at = WHEN + timedelta(minutes=minutes)
    return ExportAnnotation(
        annotation_id,
        annotator,
        at,
        at,
        orjson.dumps(result).decode(),
        review_status=review,
        reviewer="rita" if review in ("accepted", "rejected") else None,
        corrects_annotation_id=corrects,
        is_ground_truth=known,
    )


def task(*annotations: ExportAnnotation, ground_truth: bool = False) -> ExportTask:
    return ExportTask(
        7, None, "https://img.example.com/a.jpg", None, "{}", "completed", WHEN,
        list(annotations), is_ground_truth=ground_truth,
    )  # fmt: skip


def test_without_review_the_latest_answer() -> None:
    first, second = note(1, "ann", [choice("a")], minutes=5), note(2, "bob", [choice("b")])
    assert answer(task(first, second)) is first  # updated later, though the lower id
    tie = note(3, "cat", [choice("c")], minutes=5)
    assert answer(task(first, tie)) is tie  # same time: the higher id
    assert answer(task()) is None


def test_review_ranks_before_time() -> None:
    accepted = note(1, "ann", [choice("a")], review="accepted")
    pending = note(2, "bob", [choice("b")], minutes=9, review="pending")
    rejected = note(3, "cat", [choice("c")], minutes=20, review="rejected")
    assert answer(task(accepted, pending, rejected)) is accepted
    assert answer(task(pending, rejected)) is pending
    assert answer(task(rejected)) is rejected  # nothing else: still written
    correction = note(4, "rita", [choice("d")], review="accepted", corrects=1)
    assert answer(task(accepted, correction, pending)) is correction
    known = note(5, "owner", [choice("e")], minutes=-60, known=True)
    assert answer(task(accepted, correction, known, ground_truth=True)) is known


def test_consensus_merges_answers_with_corrections_and_weights() -> None:
    ann = note(1, "ann", [rectangle("car", 10, 10, 20, 20)], review="accepted")
    bob = note(2, "bob", [rectangle("car", 30, 30, 20, 20)], minutes=3, review="accepted")
    # rita corrected bob's box onto ann's; it weighs as bob's answer
    fix = note(3, "rita", [rectangle("car", 14, 10, 20, 20)], review="accepted", corrects=2)
    cat = note(4, "cat", [rectangle("car", 90, 90, 5, 5)], review="rejected")  # being redone
    merged = task(ann, bob, fix, cat)
    add_consensus([merged], labels=("car",), iou_threshold=0.5, weights={"bob": 3.0})
    assert merged.consensus_of == (1, 3)
    consensus = answer(merged)
    assert consensus is merged.consensus and consensus is not None
    assert consensus.annotator == CONSENSUS_ANNOTATOR and consensus.updated_at == fix.updated_at
    value = consensus.result[0]["value"]
    assert (value["x"], value["y"], value["width"]) == (13.0, 10.0, 20.0)


def test_consensus_of_one_answer_is_that_answer_and_known_answers_win() -> None:
    only = note(1, "ann", [rectangle("car", 10.123456789, 10, 20, 20)])
    single = task(only)
    add_consensus([single], labels=("car",), iou_threshold=0.5, weights={})
    assert answer(single) is only and single.consensus_of == (1,)
    known = note(2, "owner", [rectangle("car", 50, 50, 5, 5)], known=True)
    other = note(3, "bob", [rectangle("car", 10, 10, 20, 20)], minutes=9)
    gt = task(only, known, other, ground_truth=True)
    add_consensus([gt], labels=("car",), iou_threshold=0.5, weights={})
    assert answer(gt) is known and gt.consensus_of == (2,)
    empty = task()
    add_consensus([empty], labels=("car",), iou_threshold=0.5, weights={})
    assert answer(empty) is None and empty.consensus_of == ()
    # a rejected answer alone: nothing to merge; the ranking still writes it
    redo = note(4, "cat", [rectangle("car", 1, 1, 5, 5)], review="rejected")
    alone = task(redo)
    add_consensus([alone], labels=("car",), iou_threshold=0.5, weights={})
    assert alone.consensus is None and answer(alone) is redo
    # a ground-truth task with no known answer yet: its answers merge as usual
    unknown = task(other, ground_truth=True)
    add_consensus([unknown], labels=("car",), iou_threshold=0.5, weights={})
    assert answer(unknown) is other and unknown.consensus_of == (3,)


def test_llm_formats_write_the_majority(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.exports.readers import read_json
    from tests.exports.samples import span, write_export
    from tests.exports.samples import task as sample_task

    votes = sample_task(1, "好用", [choice("cat")], [choice("cat")], [choice("dog")])
    spans = sample_task(
        2,
        "张三在北京",
        [span("cat", 0, 2, "张三"), span("dog", 3, 5, "北京")],
        [span("cat", 0, 2, "张三")],
        [span("cat", 0, 2, "张三"), span("dog", 3, 4, "北")],
    )
    # (the latest answer, the highest id, is the odd one out)
    path, _ = write_export(tmp_path, "alpaca", "text_classification", [votes])
    assert read_json(path)[0]["output"] == "dog"
    add_consensus([votes, spans], labels=("cat", "dog"), iou_threshold=0.5, weights={})
    path, _ = write_export(tmp_path, "alpaca", "text_classification", [votes])
    assert read_json(path)[0]["output"] == "cat"
    path, _ = write_export(tmp_path, "sharegpt", "ner", [spans])
    answer_text = read_json(path)[0]["conversations"][-1]["value"]
    assert orjson.loads(answer_text) == [{"text": "张三", "label": "cat", "start": 0, "end": 2}]


def test_coco_writes_the_central_polygon(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.exports.readers import check_coco
    from tests.exports.samples import polygon, write_export
    from tests.exports.samples import task as sample_task

    square = [[10, 10], [30, 10], [30, 30], [10, 30]]
    shifted = [[12, 10], [32, 10], [32, 30], [12, 30]]
    far = [[16, 10], [36, 10], [36, 30], [16, 30]]
    drawn = sample_task(
        1,
        "https://img.example.com/p.jpg",
        [polygon("cat", square)],
        [polygon("cat", shifted), polygon("dog", [[60, 60], [70, 60], [70, 70]])],
        [polygon("cat", far)],
    )
    add_consensus([drawn], labels=("cat", "dog"), iou_threshold=0.5, weights={})
    path, _ = write_export(tmp_path, "coco", "polygon", [drawn])
    (written,) = check_coco(path)["annotations"]  # the dog: 1 of 3 answers
    # shifted, in pixels of 640 x 480
    assert written["segmentation"] == [[76.8, 48.0, 204.8, 48.0, 204.8, 144.0, 76.8, 144.0]]
