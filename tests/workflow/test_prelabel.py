"""Pre-labels as a model's whole answer, and the "accepted unchanged" rule of prediction
stats (server.predictions.groups, server.workflow.prelabel), on the realistic data:
the rule alone, then over gRPC with results shaped as Label Studio 1.4.0 returns them."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import orjson
import pytest
from annotation.v1 import common_pb2, prediction_service_pb2, project_service_pb2
from annotation.v1 import workflow_service_pb2 as W
from annotation.v1.prediction_service_pb2_grpc import PredictionServiceStub
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub
from sqlalchemy import insert, select

from server.workflow.prelabel import COORDINATE_TOLERANCE, normalized, results_match
from storage.database import Database
from storage.models import Prediction, Task
from storage.prediction_stats import rebuild_model_stats
from storage.types import utcnow
from tests import realistic
from tests.helpers import TestUser
from tests.realistic import (
    DETECTION,
    DETECTOR_NEW,
    DETECTOR_OLD,
    NER_ITEMS,
    NER_NEW,
    NER_OLD,
    ls_box_region,
    ls_submitted,
)
from tests.workflow.support import make_user
from tests.workflow.test_rules import error_of
from tests.workflow.test_statement_counts import counting

P = project_service_pb2

BOX = {
    "type": "rectanglelabels",
    "from_name": "label",
    "to_name": "image",
    "score": 0.93,
    "value": {"x": 10.0, "y": 20.0, "width": 30.0, "height": 40.0, "rotation": 0,
              "rectanglelabels": ["cat"]},
}  # fmt: skip
SPAN = {"type": "labels", "from_name": "label", "to_name": "text",
        "value": {"start": 3, "end": 8, "labels": ["LOC"]}}  # fmt: skip


def changed(region: dict, **value: object) -> dict:
    copy_ = copy.deepcopy(region)
    copy_["value"].update(value)
    return copy_


# --- the rule ---------------------------------------------------------------------------


def test_what_label_studio_adds_does_not_count() -> None:
    """Its front end adds the natural size, image_rotation 0, a region id and origin,
    and sends the coordinates back through the stage's pixels."""
    [mine] = ls_submitted([BOX], size=(200, 100))
    assert {"original_width", "original_height", "image_rotation", "id", "origin"} <= set(mine)
    assert results_match([mine], [BOX])
    assert normalized(mine) == normalized(BOX)
    mine["image_rotation"] = 90
    assert not results_match([mine], [BOX])


def test_coordinates_within_the_tolerance_are_equal() -> None:
    assert results_match([changed(BOX, x=10.0 + COORDINATE_TOLERANCE / 2)], [BOX])
    assert not results_match([changed(BOX, x=10.0 + COORDINATE_TOLERANCE * 2)], [BOX])


def test_labels_and_offsets_must_be_equal_but_label_order_and_span_text_do_not() -> None:
    assert not results_match([changed(BOX, rectanglelabels=["dog"])], [BOX])
    assert not results_match([changed(SPAN, end=9)], [SPAN])
    assert results_match([changed(SPAN, text="Paris")], [SPAN])  # the front end adds text
    two = changed(BOX, rectanglelabels=["cat", "dog"])
    assert results_match([changed(BOX, rectanglelabels=["dog", "cat"])], [two])


def test_the_whole_answer_counts_as_a_multiset_of_regions() -> None:
    other = changed(BOX, x=50.0)
    assert results_match([other, BOX], [BOX, other])
    assert not results_match([BOX], [BOX, other])  # a region deleted
    assert not results_match([BOX, BOX], [BOX, other])
    assert not results_match([], [BOX])  # a negative over a pre-label
    assert results_match([], [])


def test_one_moved_box_of_three_is_a_modified_answer() -> None:
    item = DETECTION["accept"]
    stored = [
        {"type": "rectanglelabels", "from_name": "label", "to_name": "image", "score": b.score,
         "value": {**b.percent(item.size), "rotation": 0, "rectanglelabels": [b.label]}}
        for b in item.truth
    ]  # fmt: skip
    submitted = ls_submitted(stored, size=item.size)
    assert results_match(submitted, stored)
    submitted[1] = ls_box_region(item.truth[1].moved(3, 0), item.size, region_id="x")
    assert not results_match(submitted, stored)


# --- over gRPC --------------------------------------------------------------------------


@dataclass
class Loop:
    project: ProjectServiceStub
    workflow: WorkflowServiceStub
    prediction: PredictionServiceStub
    owner: TestUser
    annotator: TestUser

    async def init(self, body: dict[str, Any]) -> tuple[str, dict[str, str]]:
        created = await self.project.InitProject(
            P.InitProjectRequest(
                name=body["name"],
                task_type=common_pb2.TaskType.Value("TASK_TYPE_" + body["task_type"].upper()),
                data=[
                    P.TaskInput(
                        id=d["id"],
                        content=d["content"],
                        metadata=orjson.dumps(d.get("metadata", {})),
                    )
                    for d in body["data"]
                ],
                tags=[common_pb2.TagInput(tag=t["tag"]) for t in body["tags"]],
            ),
            metadata=self.owner.metadata,
        )
        pid = created.project_id
        page = await self.project.ListTasks(
            P.ListTasksRequest(project_id=pid), metadata=self.owner.metadata
        )
        return pid, {t.external_id: t.task_id for t in page.tasks}

    async def import_file(self, pid: str, payload: bytes) -> Any:
        async def requests() -> AsyncIterator[prediction_service_pb2.ImportPredictionsRequest]:
            yield prediction_service_pb2.ImportPredictionsRequest(project_id=pid)
            yield prediction_service_pb2.ImportPredictionsRequest(chunk=payload)

        return await self.prediction.ImportPredictions(requests(), metadata=self.owner.metadata)

    async def configure(self, pid: str, **fields: Any) -> W.ConfigureProjectResponse:
        return await self.workflow.ConfigureProject(
            W.ConfigureProjectRequest(project_id=pid, **fields), metadata=self.owner.metadata
        )

    async def assign(self, pid: str, task_ids: list[str]) -> None:
        await self.workflow.AssignTasks(
            W.AssignTasksRequest(
                project_id=pid, annotator_id=self.annotator.user_id, task_ids=task_ids
            ),
            metadata=self.owner.metadata,
        )

    async def task(self, task_id: str) -> W.TaskDetail:
        got = await self.workflow.GetTask(
            W.GetTaskRequest(task_id=task_id), metadata=self.annotator.metadata
        )
        return got.task

    async def submit(self, task_id: str, result: list[Any], **fields: Any) -> Any:
        await self.workflow.StartTask(
            W.StartTaskRequest(task_id=task_id), metadata=self.annotator.metadata
        )
        return await self.workflow.SubmitAnnotation(
            W.SubmitAnnotationRequest(task_id=task_id, result=orjson.dumps(result), **fields),
            metadata=self.annotator.metadata,
        )

    async def stats(self, pid: str) -> dict[str | None, Any]:
        got = await self.prediction.GetPredictionStats(
            prediction_service_pb2.GetPredictionStatsRequest(project_id=pid),
            metadata=self.owner.metadata,
        )
        return {(m.model_version if m.HasField("model_version") else None): m for m in got.models}


@pytest.fixture
def loop(channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser) -> Loop:
    return Loop(
        ProjectServiceStub(channel),
        WorkflowServiceStub(channel),
        PredictionServiceStub(channel),
        admin,
        annotator,
    )


def versions(task: W.TaskDetail) -> dict[str | None, W.TaskPrediction]:
    return {(p.model_version if p.HasField("model_version") else None): p for p in task.predictions}


async def detection_project(loop: Loop) -> tuple[str, dict[str, str]]:
    pid, ids = await loop.init(realistic.detection_init(external_id=None))
    for version in (DETECTOR_OLD, DETECTOR_NEW):
        await loop.import_file(
            pid, realistic.detection_predictions(ids, version, with_overrun=False)
        )
    await loop.configure(pid, ready=True)
    await loop.assign(pid, list(ids.values()))
    return pid, ids


async def test_one_prediction_per_version_holds_every_box_and_stats_follow_the_answers(
    loop: Loop,
) -> None:
    pid, ids = await detection_project(loop)
    task = await loop.task(ids["accept"])
    shown = versions(task)
    assert set(shown) == {DETECTOR_OLD, DETECTOR_NEW}
    new = shown[DETECTOR_NEW]
    assert len(orjson.loads(new.result)) == 3 == len(new.region_prediction_ids)
    assert new.prediction_id == new.region_prediction_ids[0]
    assert task.prelabel_prediction_id == new.prediction_id
    assert new.score == pytest.approx(sum(b.score for b in DETECTION["accept"].truth) / 3)

    size = DETECTION["accept"].size
    await loop.submit(
        ids["accept"],
        ls_submitted(orjson.loads(new.result), size=size),
        parent_prediction_id=new.prediction_id,
        image_width=size[0],
        image_height=size[1],
    )
    move = versions(await loop.task(ids["move"]))[DETECTOR_NEW]
    moved = ls_submitted(orjson.loads(move.result), size=DETECTION["move"].size)
    moved[0]["value"]["x"] += 5
    await loop.submit(ids["move"], moved, parent_prediction_id=move.region_prediction_ids[-1])
    negative = versions(await loop.task(ids["negative"]))[DETECTOR_NEW]
    await loop.submit(ids["negative"], [], parent_prediction_id=negative.prediction_id)
    older = versions(await loop.task(ids["accents"]))[DETECTOR_OLD]
    await loop.submit(
        ids["accents"],
        ls_submitted(orjson.loads(older.result), size=DETECTION["accents"].size),
        parent_prediction_id=older.prediction_id,
    )

    stats = await loop.stats(pid)
    new_stats, old_stats = stats[DETECTOR_NEW], stats[DETECTOR_OLD]
    assert (
        new_stats.annotations_from_prediction,
        new_stats.accepted_unchanged,
        new_stats.modified,
        new_stats.annotated_without_prediction_use,
    ) == (3, 1, 2, 1)
    assert (
        old_stats.annotations_from_prediction,
        old_stats.accepted_unchanged,
        old_stats.modified,
        old_stats.annotated_without_prediction_use,
    ) == (1, 1, 0, 3)
    move_task = await loop.task(ids["move"])
    assert move_task.annotations[0].parent_prediction_id == move.prediction_id
    assert orjson.loads(move_task.annotations[0].result) == moved


async def test_the_chosen_version_pre_labels_and_only_it_can_change_in_any_status(
    loop: Loop, database: Database
) -> None:
    pid, ids = await loop.init(realistic.detection_init(external_id=None))
    # a draft project: choosing the version leaves the status alone
    error = await error_of(loop.configure(pid, prelabel_model_version=DETECTOR_OLD))
    assert (error.error_code, error.details["field"]) == (
        "INVALID_REQUEST",
        "prelabel_model_version",
    )
    for version in (DETECTOR_OLD, DETECTOR_NEW):
        await loop.import_file(
            pid, realistic.detection_predictions(ids, version, with_overrun=False)
        )
    chosen = await loop.configure(pid, prelabel_model_version=DETECTOR_OLD)
    assert (chosen.status, chosen.prelabel_model_version) == (
        common_pb2.PROJECT_STATUS_DRAFT,
        DETECTOR_OLD,
    )
    await loop.configure(pid, ready=True)
    await loop.assign(pid, [ids["accept"], ids["cjk"]])
    task = await loop.task(ids["accept"])
    assert task.prelabel_prediction_id == versions(task)[DETECTOR_OLD].prediction_id
    task = await loop.task(ids["cjk"])  # no prediction of the chosen version: the newest
    assert task.prelabel_prediction_id == versions(task)[DETECTOR_NEW].prediction_id

    # in progress: labels cannot change, the version can
    progress = await loop.project.GetProgress(
        P.GetProgressRequest(project_id=pid), metadata=loop.owner.metadata
    )
    assert progress.status == common_pb2.PROJECT_STATUS_IN_PROGRESS
    error = await error_of(loop.configure(pid, labels=[common_pb2.TagInput(tag="bus")]))
    assert error.error_code == "INVALID_STATE"
    error = await error_of(
        loop.configure(
            pid, prelabel_model_version=DETECTOR_NEW, labels=[common_pb2.TagInput(tag="bus")]
        )
    )
    assert error.error_code == "INVALID_STATE"
    back = await loop.configure(pid, prelabel_model_version="")
    assert back.status == common_pb2.PROJECT_STATUS_IN_PROGRESS
    assert not back.HasField("prelabel_model_version")
    task = await loop.task(ids["accept"])
    assert task.prelabel_prediction_id == versions(task)[DETECTOR_NEW].prediction_id
    error = await error_of(loop.configure(pid, prelabel_model_version="x" * 256))
    assert error.error_code == "INVALID_REQUEST"


async def test_a_negative_and_the_image_size_are_recorded(loop: Loop, database: Database) -> None:
    pid, ids = await detection_project(loop)
    negative = versions(await loop.task(ids["negative"]))[DETECTOR_NEW]
    width, height = DETECTION["negative"].size
    await loop.workflow.StartTask(
        W.StartTaskRequest(task_id=ids["negative"]), metadata=loop.annotator.metadata
    )
    for bad in (
        {"image_width": 0, "image_height": height},
        {"image_width": width, "image_height": -1},
        {"image_width": 100_001, "image_height": height},
        {"image_width": width},
    ):
        error = await error_of(
            loop.workflow.SubmitAnnotation(
                W.SubmitAnnotationRequest(task_id=ids["negative"], result="[]", **bad),
                metadata=loop.annotator.metadata,
            )
        )
        assert error.error_code == "INVALID_REQUEST", bad
        assert error.details["field"] in {"image_width", "image_height"}
    submitted = await loop.workflow.SubmitAnnotation(
        W.SubmitAnnotationRequest(
            task_id=ids["negative"],
            result="[]",
            parent_prediction_id=negative.prediction_id,
            image_width=width,
            image_height=height,
        ),
        metadata=loop.annotator.metadata,
    )
    assert submitted.status == common_pb2.TASK_STATUS_COMPLETED
    task = await loop.task(ids["negative"])
    assert orjson.loads(task.annotations[0].result) == []
    tasks = Task.__table__
    async with database.read() as conn:
        row = (
            await conn.execute(
                select(tasks.c.image_width, tasks.c.image_height).where(
                    tasks.c.id == int(ids["negative"])
                )
            )
        ).one()
    assert tuple(row) == (width, height)
    stats = (await loop.stats(pid))[DETECTOR_NEW]
    assert (stats.annotations_from_prediction, stats.modified, stats.accepted_unchanged) == (
        1,
        1,
        0,
    )


async def test_a_parent_from_another_task_is_refused(loop: Loop) -> None:
    _, ids = await detection_project(loop)
    other = versions(await loop.task(ids["move"]))[DETECTOR_NEW]
    await loop.workflow.StartTask(
        W.StartTaskRequest(task_id=ids["accept"]), metadata=loop.annotator.metadata
    )
    error = await error_of(
        loop.workflow.SubmitAnnotation(
            W.SubmitAnnotationRequest(
                task_id=ids["accept"], result="[]", parent_prediction_id=other.prediction_id
            ),
            metadata=loop.annotator.metadata,
        )
    )
    assert (error.error_code, error.details["field"]) == ("INVALID_REQUEST", "parent_prediction_id")


async def test_span_pre_labels_group_by_version_and_an_untouched_accept_is_unchanged(
    loop: Loop, database: Database
) -> None:
    """NER spans (rows written as the import writes them), accepted as Label Studio returns
    them (with `text`, ids, origin and score added); a version without one: its own group."""
    pid, ids = await loop.init(realistic.text_init("ner"))
    now = utcnow()
    rows = []
    for item in NER_ITEMS:
        for version, spans in item.predictions.items():
            for span in spans:
                region = {"type": "labels", "from_name": "label", "to_name": "text",
                          "value": {"start": span.start, "end": span.end, "labels": [span.label]},
                          "score": span.score}  # fmt: skip
                rows.append(dict(task_id=int(ids[item.key]), project_id=pid,
                                 source="external_import", model_version=version,
                                 score=span.score, result_json=orjson.dumps([region]).decode(),
                                 created_at=now))  # fmt: skip
    rows.append(dict(task_id=int(ids["ner-accept"]), project_id=pid, source="ml_backend",
                     model_version=None, score=None, created_at=now,
                     result_json=orjson.dumps([{**SPAN, "to_name": "text"}]).decode()))  # fmt: skip
    async with database.transaction() as conn:
        await conn.execute(insert(Prediction.__table__), rows)
        await rebuild_model_stats(conn, pid)
    await loop.configure(pid, ready=True)
    await loop.assign(pid, list(ids.values()))

    task = await loop.task(ids["ner-accept"])
    shown = versions(task)
    assert set(shown) == {NER_OLD, NER_NEW, None}
    assert len(shown[NER_NEW].region_prediction_ids) == 3
    assert not shown[None].HasField("score")
    assert task.prelabel_prediction_id == shown[None].prediction_id  # imported last
    text = NER_ITEMS[0].text
    accepted = ls_submitted(orjson.loads(shown[NER_NEW].result))
    for region in accepted:
        region["value"]["text"] = text[region["value"]["start"] : region["value"]["end"]]
    await loop.submit(
        ids["ner-accept"], accepted, parent_prediction_id=shown[NER_NEW].prediction_id
    )
    stats = await loop.stats(pid)
    assert (stats[NER_NEW].accepted_unchanged, stats[NER_NEW].modified) == (1, 0)
    assert stats[None].annotated_without_prediction_use == 1


async def test_recording_the_image_size_costs_no_statement(loop: Loop, database: Database) -> None:
    """The size travels in the UPDATE that completes the task (see test_statement_counts)."""
    pid, ids = await loop.init(realistic.detection_init(external_id=None))
    await loop.configure(pid, ready=True)
    await loop.assign(pid, [ids["accept"], ids["move"]])
    counts = []
    for key, size in (
        ("accept", {}),
        ("move", dict(zip(("image_width", "image_height"), DETECTION["move"].size, strict=True))),
    ):
        await loop.workflow.StartTask(
            W.StartTaskRequest(task_id=ids[key]), metadata=loop.annotator.metadata
        )
        with counting(database) as statements:
            await loop.workflow.SubmitAnnotation(
                W.SubmitAnnotationRequest(task_id=ids[key], result="[]", **size),
                metadata=loop.annotator.metadata,
            )
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_class_pre_labels_in_several_rows_equal_one_choices_region() -> None:
    rows = [
        {"type": "choices", "from_name": "label", "to_name": "text", "score": 0.9,
         "value": {"choices": ["positive"]}},
        {"type": "choices", "from_name": "label", "to_name": "text", "score": 0.6,
         "value": {"choices": ["neutral"]}},
    ]  # fmt: skip
    one = {"value": {"choices": ["neutral", "positive"]}, "id": "aB3", "from_name": "label",
           "to_name": "text", "type": "choices", "origin": "prediction"}  # fmt: skip
    assert results_match([one], rows)
    assert results_match(ls_submitted(rows), rows)
    assert not results_match([changed(one, choices=["positive"])], rows)


async def test_with_overlap_each_answer_counts_once_and_a_rebuild_agrees(
    loop: Loop, database: Database
) -> None:
    """Two annotators answer one task (annotations_per_task 2): the stats count each
    answer once, the task once, and recomputing them from the rows gives the same."""
    pid, ids = await loop.init(realistic.detection_init(external_id=None))
    for version in (DETECTOR_OLD, DETECTOR_NEW):
        await loop.import_file(
            pid, realistic.detection_predictions(ids, version, with_overrun=False)
        )
    await loop.configure(
        pid, ready=True, quality=common_pb2.QualitySettings(annotations_per_task=2)
    )
    second = Loop(loop.project, loop.workflow, loop.prediction, loop.owner, loop.annotator)
    second.annotator = await make_user(database, "second", "annotator")
    for each in (loop, second):
        await each.assign(pid, [ids["accept"], ids["move"]])
    for each in (loop, second):
        new = versions(await each.task(ids["accept"]))[DETECTOR_NEW]
        await each.submit(
            ids["accept"],
            ls_submitted(orjson.loads(new.result), size=DETECTION["accept"].size),
            parent_prediction_id=new.prediction_id,
        )
    # one answer of "move" (modified), the other still to come
    move = versions(await loop.task(ids["move"]))[DETECTOR_NEW]
    moved = ls_submitted(orjson.loads(move.result), size=DETECTION["move"].size)
    moved[0]["value"]["x"] += 5
    await loop.submit(ids["move"], moved, parent_prediction_id=move.prediction_id)

    def figures(stats: dict[str | None, Any]) -> dict[str | None, tuple[int, ...]]:
        return {
            version: (
                m.tasks_covered,
                m.annotations_from_prediction,
                m.accepted_unchanged,
                m.modified,
                m.annotated_without_prediction_use,
            )
            for version, m in stats.items()
        }

    counted = figures(await loop.stats(pid))
    assert counted[DETECTOR_NEW][1:] == (3, 2, 1, 0)
    assert counted[DETECTOR_OLD][1:] == (0, 0, 0, 3)
    async with database.transaction() as conn:
        await rebuild_model_stats(conn, pid)
    assert figures(await loop.stats(pid)) == counted
    progress = await loop.project.GetProgress(
        P.GetProgressRequest(project_id=pid), metadata=loop.owner.metadata
    )
    assert (progress.completed_tasks, progress.in_progress_tasks) == (1, 1)
