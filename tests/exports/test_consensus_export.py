"""Exports that carry the verdict, through the real server: the consensus
option in COCO (read by pycocotools), YOLO and Pascal VOC, the accepted_only
and ground_truth_only filters, and the json export's review keys.

Two annotators answered the same images (overlap), so the rows are written
through the storage functions (bulk insert), as the sample exports are.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import grpc
import orjson
import pytest
from annotation.v1 import common_pb2, export_service_pb2, project_service_pb2
from annotation.v1 import project_service_pb2_grpc as projects_grpc
from sqlalchemy import Table

from server.accounts import create_token, create_user
from storage.bulk import insert_many
from storage.database import Database
from storage.models import Annotation, Prediction, QualityScore, Task
from storage.projects import LabelRecord, insert_project
from storage.users import insert_user
from tests.exports.readers import check_coco, check_pascal_voc, check_yolo, read_json
from tests.exports.support import download, export_stub, get_export
from tests.helpers import TestUser

WHEN = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
URLS = (
    "https://img.example.com/cam/x.png",  # size in metadata: 640 x 480
    "https://img.example.com/cam/X.jpg",  # a negative; size recorded with the submit
    "https://img.example.com/ünï/x.jpeg",  # no size anywhere
    "https://img.example.com/gt/x.jpg",  # a ground-truth task, 640 x 480
)


def box(label: str, x: float, y: float, w: float, h: float, *, sized: bool = True) -> dict:
    region: dict[str, Any] = {
        "id": f"{label}{x}",
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "value": {"x": x, "y": y, "width": w, "height": h, "rotation": 0,
                  "rectanglelabels": [label]},
    }  # fmt: skip
    if sized:
        region["original_width"], region["original_height"] = 640, 480
    return region


def stored(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


async def seed(
    database: Database, channel: grpc.aio.Channel, owner: TestUser, reviewer: TestUser
) -> tuple[str, list[int]]:
    """The project, its four tasks, two annotators' answers, a known answer,
    review verdicts, predictions of two model versions, and émile's agreement
    score (3.0: his boxes weigh three times dana's, who has none)."""
    tables = {m: cast(Table, m.__table__) for m in (Task, Annotation, Prediction, QualityScore)}
    project_id = "proj-consensus"
    async with database.transaction() as conn:
        dana = (await insert_user(conn, username="dana", role="annotator")).user_id
        emile = (await insert_user(conn, username="émile", role="annotator")).user_id
        await insert_project(
            conn, project_id=project_id, name="overlap", description="",
            task_type="object_detection", status="in_progress", external_id=None,
            label_config="<View/>", owner_id=owner.user_id,
            project_labels=[LabelRecord("car", "#3366ff"), LabelRecord("person", "#ff6633")],
            now=WHEN,
        )  # fmt: skip
        await insert_many(
            conn,
            tables[Task],
            columns=("position", "external_id", "content", "file_path", "metadata_json",
                     "status", "completed_at", "image_width", "image_height", "is_ground_truth"),
            rows=[
                (i, f"ext-{i}", url, None,
                 '{"width": 640, "height": 480}' if i in (0, 3) else "{}", "completed",
                 stored(WHEN), 800 if i == 1 else None, 600 if i == 1 else None, i == 3)
                for i, url in enumerate(URLS)
            ],
            constants={"project_id": project_id, "updated_at": WHEN},
        )  # fmt: skip
    listed = await projects_grpc.ProjectServiceStub(channel).ListTasks(
        project_service_pb2.ListTasksRequest(project_id=project_id, page_size=10),
        metadata=owner.metadata,
    )
    ids = sorted(int(t.task_id) for t in listed.tasks)
    t1, t2, t3, t4 = ids
    early, late = stored(WHEN + timedelta(hours=1)), stored(WHEN + timedelta(hours=2))
    answers = [
        # task, author, result, time, review status, reviewer, known answer
        (t1, dana, [box("car", 10, 10, 20, 20), box("person", 50, 40, 10, 30)], early,
         "accepted", reviewer.user_id, False),
        (t1, emile, [box("car", 14, 10, 20, 20), box("person", 52, 40, 10, 30),
                     box("car", 80, 80, 5, 5)], late, "accepted", reviewer.user_id, False),
        (t2, dana, [], early, None, None, False),
        (t2, emile, [], late, None, None, False),
        (t3, dana, [box("car", 20, 20, 40, 40, sized=False)], early, None, None, False),
        (t3, emile, [box("car", 24, 20, 40, 40, sized=False)], late, None, None, False),
        (t4, owner.user_id, [box("person", 20, 20, 10, 10)], early, None, None, True),
        (t4, dana, [box("car", 0, 0, 50, 50)], late, "pending", None, False),
    ]  # fmt: skip
    async with database.transaction() as conn:
        await insert_many(
            conn,
            tables[Annotation],
            columns=("task_id", "user_id", "result_json", "created_at", "updated_at",
                     "review_status", "reviewer_id", "is_ground_truth"),
            rows=[
                (task, author, orjson.dumps(result).decode(), at, at, status, by, known)
                for task, author, result, at, status, by, known in answers
            ],
            constants={"project_id": project_id},
        )  # fmt: skip
        await insert_many(
            conn,
            tables[Prediction],
            columns=("task_id", "source", "model_version", "score", "result_json", "created_at"),
            rows=[
                (t1, "external_import", version, 0.8, orjson.dumps([box("car", x, 10, 20, 20)])
                 .decode(), stored(WHEN))
                for version, x in (("det-v1", 9.0), ("det-v2", 11.0))
            ],
            constants={"project_id": project_id},
        )  # fmt: skip
        await insert_many(
            conn,
            tables[QualityScore],
            columns=("user_id", "score_sum", "score_count"),
            rows=[(emile, 6.0, 2)],
            constants={"project_id": project_id, "kind": "agreement", "label": ""},
        )
    return project_id, ids


async def export(
    channel: grpc.aio.Channel,
    user: TestUser,
    project_id: str,
    target: Path,
    format_name: str,
    **options: bool,
) -> export_service_pb2.CreateExportResponse:
    created = await export_stub(channel).CreateExport(
        export_service_pb2.CreateExportRequest(
            project_id=project_id,
            format=common_pb2.ExportFormat.Value(f"EXPORT_FORMAT_{format_name.upper()}"),
            **options,
        ),
        metadata=user.metadata,
    )
    await download(channel, user, created.export_id, target)
    return created


@pytest.fixture
async def reviewer(database: Database) -> TestUser:
    """The user who accepted answers (an admin: admins review too)."""
    user = await create_user(database, username="rita", role="admin")
    issued = await create_token(database, username="rita")
    return TestUser(user.user_id, user.username, user.role, issued.secret)


async def test_consensus_in_coco_yolo_and_voc(
    channel: grpc.aio.Channel,
    database: Database,
    admin: TestUser,
    reviewer: TestUser,
    tmp_path: Path,
) -> None:
    project_id, (t1, t2, t3, t4) = await seed(database, channel, admin, reviewer)

    created = await export(channel, admin, project_id, tmp_path / "c.json", "coco", consensus=True)
    details = await get_export(channel, admin, created.export_id)
    assert (details.consensus, details.accepted_only, details.ground_truth_only) == (
        True, False, False,
    )  # fmt: skip
    data = check_coco(tmp_path / "c.json")  # pycocotools opens and evaluates it
    from pycocotools.coco import COCO

    coco = COCO(str(tmp_path / "c.json"))
    # t3 has no size: left out and named; t2 is a negative: an image without boxes
    assert sorted(coco.getImgIds()) == [t1, t2, t4]
    assert [w.task_id for w in created.warnings] == [str(t3)]
    assert coco.getAnnIds(imgIds=[t2]) == []
    names = {c["id"]: c["name"] for c in data["categories"]}
    merged = sorted(
        (names[a["category_id"]], a["bbox"]) for a in coco.loadAnns(coco.getAnnIds(imgIds=[t1]))
    )
    # car: (10 * 1 + 14 * 3) / 4 = 13 % of 640 px; the stray car (1 of 2 answers) is gone
    assert merged == [
        ("car", pytest.approx([83.2, 48.0, 128.0, 96.0])),
        ("person", pytest.approx([329.6, 192.0, 64.0, 144.0])),
    ]
    # the ground-truth task: its known answer, not dana's
    known = coco.loadAnns(coco.getAnnIds(imgIds=[t4]))
    assert [(names[a["category_id"]], a["bbox"]) for a in known] == [
        ("person", pytest.approx([128.0, 96.0, 64.0, 48.0]))
    ]

    # without consensus: the latest accepted answer, émile's three boxes
    await export(channel, admin, project_id, tmp_path / "l.json", "coco")
    latest = COCO(str(tmp_path / "l.json"))
    assert len(latest.getAnnIds(imgIds=[t1])) == 3

    created = await export(channel, admin, project_id, tmp_path / "y.zip", "yolo", consensus=True)
    yolo = check_yolo(tmp_path / "y.zip")
    by_url = {e["url"]: e["image"] for e in yolo["manifest"]}
    lines = {url: yolo["labels"][by_url[url]] for url in URLS}
    classes = yolo["classes"]
    parsed = sorted(
        (classes[int(line.split()[0])], [float(v) for v in line.split()[1:]])
        for line in lines[URLS[0]]
    )
    assert parsed == [
        ("car", pytest.approx([0.23, 0.2, 0.2, 0.2])),
        ("person", pytest.approx([0.565, 0.55, 0.1, 0.3])),
    ]
    assert lines[URLS[1]] == []  # the negative: a background image
    # no size is needed in yolo: x = (20 + 3 * 24) / 4 = 23 %, its centre 43 %
    assert [[float(v) for v in line.split()[1:]] for line in lines[URLS[2]]] == [
        pytest.approx([0.43, 0.4, 0.4, 0.4])
    ]

    await export(channel, admin, project_id, tmp_path / "v.json", "pascal_voc", consensus=True)
    voc = {e["image"]: e for e in check_pascal_voc(tmp_path / "v.json")}
    assert sorted(voc) == sorted([URLS[0], URLS[1], URLS[3]])
    assert sorted((o["name"], o["bndbox"]) for o in voc[URLS[0]]["objects"]) == [
        ("car", {"xmin": 84, "ymin": 49, "xmax": 212, "ymax": 144}),
        ("person", {"xmin": 330, "ymin": 193, "xmax": 394, "ymax": 336}),
    ]
    assert voc[URLS[1]]["objects"] == []


async def test_filters_and_review_keys_in_json(
    channel: grpc.aio.Channel,
    database: Database,
    admin: TestUser,
    reviewer: TestUser,
    tmp_path: Path,
) -> None:
    project_id, (t1, t2, t3, t4) = await seed(database, channel, admin, reviewer)

    created = await export(
        channel, admin, project_id, tmp_path / "a.json", "json", accepted_only=True
    )
    assert created.total_exported == 1
    details = await get_export(channel, admin, created.export_id)
    assert details.accepted_only and not details.consensus and not details.ground_truth_only
    (task,) = read_json(tmp_path / "a.json")
    assert task["task_id"] == str(t1) and task["ground_truth"] is False
    assert "consensus" not in task  # only when asked
    assert [(a["annotator"], a["review_status"], a["reviewer"]) for a in task["annotations"]] == [
        ("dana", "accepted", "rita"),
        ("émile", "accepted", "rita"),
    ]
    assert all(
        a["review_comment"] is None and a["corrects_annotation_id"] is None
        and a["ground_truth"] is False and a["agreement"] is None
        for a in task["annotations"]
    )  # fmt: skip
    assert [p["model_version"] for p in task["predictions"]] == ["det-v1", "det-v2"]

    created = await export(
        channel, admin, project_id, tmp_path / "g.json", "json",
        ground_truth_only=True, consensus=True,
    )  # fmt: skip
    (task,) = read_json(tmp_path / "g.json")
    assert task["task_id"] == str(t4) and task["ground_truth"] is True
    known = next(a for a in task["annotations"] if a["ground_truth"])
    assert task["consensus"]["annotation_ids"] == [known["id"]]
    assert task["consensus"]["result"] == known["result"]
    assert [a["review_status"] for a in task["annotations"]] == [None, "pending"]

    await export(channel, admin, project_id, tmp_path / "all.json", "json", consensus=True)
    tasks = {t["task_id"]: t for t in read_json(tmp_path / "all.json")}
    assert sorted(tasks) == sorted(str(t) for t in (t1, t2, t3, t4))
    assert tasks[str(t2)]["consensus"]["result"] == []
    merged = tasks[str(t1)]["consensus"]
    assert merged["annotation_ids"] == [a["id"] for a in tasks[str(t1)]["annotations"]]
    assert [(r["value"]["rectanglelabels"], r["value"]["x"]) for r in merged["result"]] == [
        (["car"], 13.0),
        (["person"], 51.5),
    ]

    # both filters: no task is a ground-truth task with an accepted answer
    created = await export(
        channel, admin, project_id, tmp_path / "n.json", "coco",
        accepted_only=True, ground_truth_only=True,
    )  # fmt: skip
    assert created.total_exported == 0
    assert read_json(tmp_path / "n.json")["images"] == []
