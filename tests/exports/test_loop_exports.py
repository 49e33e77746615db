"""The pre-labelling loop's project (tests.realistic) exported in every detection
format, on both engines: two model versions' predictions imported, one image
accepted untouched, one box moved, a wrong pre-label deleted and submitted as a
negative, a sub-pixel overrun, each submit as Label Studio 1.4.0 sends it with the
image's natural size, no size in any metadata. Every export completes without
warnings; pycocotools, the Ultralytics layout rules (after the documented recipe
fetched the images from a local host) and globox open them with the negative
present and the moved box moved."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import grpc
import orjson
import pytest
from annotation.v1 import (
    common_pb2,
    prediction_service_pb2,
    prediction_service_pb2_grpc,
    project_service_pb2,
    project_service_pb2_grpc,
    workflow_service_pb2,
    workflow_service_pb2_grpc,
)
from globox import AnnotationSet

from tests.exports import readers
from tests.exports.recipes import image_host, recipe, run_recipe
from tests.exports.support import create_export, download
from tests.exports.test_tool_readers import ultralytics_dataset_root, ultralytics_images
from tests.helpers import TestUser
from tests.realistic import (
    DETECTION,
    DETECTION_ITEMS,
    DETECTION_LABELS,
    DETECTOR_NEW,
    DETECTOR_OLD,
    OVERRUN_BOX,
    detection_predictions,
    ls_box_region,
    png_bytes,
)

MOVED = DETECTION["move"].truth[0]  # the NEW version's car, dragged by (10, 2) px


def submitted_result(key: str) -> list[dict[str, object]]:
    """What Label Studio 1.4.0 sends for the item (the overrun as the model drew it)."""
    item = DETECTION[key]
    boxes = (OVERRUN_BOX, *item.truth[1:]) if key == "overrun" else item.truth
    return [
        ls_box_region(
            box,
            item.size,
            region_id=f"{key}-{n}",
            origin="prediction-changed" if box == MOVED else "prediction",
        )
        for n, box in enumerate(boxes)
    ]


async def loop_project(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, host: str
) -> dict[str, str]:
    """{key: task_id} of the realistic detection project, every task but one submitted."""
    projects = project_service_pb2_grpc.ProjectServiceStub(channel)
    workflow = workflow_service_pb2_grpc.WorkflowServiceStub(channel)
    created = await projects.InitProject(
        project_service_pb2.InitProjectRequest(
            name="street scenes",
            task_type=common_pb2.TASK_TYPE_OBJECT_DETECTION,
            data=[
                project_service_pb2.TaskInput(
                    id=item.key,
                    content=item.content(host),
                    metadata=orjson.dumps(dict(item.metadata)).decode(),
                )
                for item in DETECTION_ITEMS
            ],
            tags=[common_pb2.TagInput(tag=label) for label in DETECTION_LABELS],
        ),
        metadata=admin.metadata,
    )
    project_id = created.project_id
    listed = await projects.ListTasks(
        project_service_pb2.ListTasksRequest(project_id=project_id, page_size=100),
        metadata=admin.metadata,
    )
    ids = {t.external_id: t.task_id for t in listed.tasks}
    predictions = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    for version in (DETECTOR_OLD, DETECTOR_NEW):
        # (the model's sub-pixel overrun is the import's concern; the annotation has it)
        payload = detection_predictions(ids, version, host=host, with_overrun=False)

        async def requests(payload: bytes = payload):  # type: ignore[no-untyped-def]
            yield prediction_service_pb2.ImportPredictionsRequest(
                project_id=project_id, format=common_pb2.IMPORT_FORMAT_AAP_JSON
            )
            yield prediction_service_pb2.ImportPredictionsRequest(chunk=payload)

        imported = await predictions.ImportPredictions(requests(), metadata=admin.metadata)
        assert list(imported.errors) == []
    await workflow.ConfigureProject(
        workflow_service_pb2.ConfigureProjectRequest(project_id=project_id, ready=True),
        metadata=admin.metadata,
    )
    await workflow.AssignTasks(
        workflow_service_pb2.AssignTasksRequest(
            project_id=project_id, annotator_id=annotator.user_id, task_ids=list(ids.values())
        ),
        metadata=admin.metadata,
    )
    for item in DETECTION_ITEMS:
        if item.key == "unpredicted":
            continue  # left pending: not in a completed-only export
        task_id = ids[item.key]
        await workflow.StartTask(
            workflow_service_pb2.StartTaskRequest(task_id=task_id), metadata=annotator.metadata
        )
        await workflow.SubmitAnnotation(
            workflow_service_pb2.SubmitAnnotationRequest(
                task_id=task_id,
                result=orjson.dumps(submitted_result(item.key)).decode(),
                image_width=item.size[0],
                image_height=item.size[1],
            ),
            metadata=annotator.metadata,
        )
    return {"project": project_id, **ids}


def serve_images(root: Path) -> None:
    for item in DETECTION_ITEMS:
        path = root / unquote(item.path).lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png_bytes(*item.size))


@pytest.fixture
def images(tmp_path: Path) -> Path:
    root = tmp_path / "host"
    serve_images(root)
    return root


async def test_coco_of_the_loop_has_the_negative_and_the_moved_box(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, tmp_path: Path, images: Path
) -> None:
    with image_host(images) as host:
        ids = await loop_project(channel, admin, annotator, host)
    created = await create_export(channel, admin, ids["project"], "coco")
    assert list(created.warnings) == [] and created.total_exported == 6
    path = tmp_path / "coco.json"
    await download(channel, admin, created.export_id, path)
    data = readers.check_coco(path)  # pycocotools, COCO evaluation against itself
    images_by_task = {str(i["id"]): i for i in data["images"]}
    negative = images_by_task[ids["negative"]]
    assert (negative["width"], negative["height"]) == DETECTION["negative"].size
    assert not [a for a in data["annotations"] if str(a["image_id"]) == ids["negative"]]
    boxes = {
        key: [a["bbox"] for a in data["annotations"] if str(a["image_id"]) == ids[key]]
        for key in ("move", "overrun", "accept")
    }
    assert boxes["move"][0] == pytest.approx([MOVED.x, MOVED.y, MOVED.w, MOVED.h], abs=0.01)
    assert boxes["overrun"][0] == pytest.approx([180.0, 90.0, 20.0, 10.0], abs=0.01)
    assert len(boxes["accept"]) == 3


async def test_yolo_of_the_loop_trains_after_the_documented_recipe(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, tmp_path: Path, images: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with image_host(images) as host:
        ids = await loop_project(channel, admin, annotator, host)
        created = await create_export(channel, admin, ids["project"], "yolo")
        assert list(created.warnings) == [] and created.total_exported == 6
        await download(channel, admin, created.export_id, work / "export.zip")
        run_recipe(recipe("**yolo → Ultralytics.**"), work)
    found = readers.check_yolo(work / "export.zip")
    dataset = work / "dataset"
    root = ultralytics_dataset_root(found["data"], dataset / "data.yaml", tmp_path / "datasets")
    listed = ultralytics_images((root / found["data"]["train"]).resolve())
    assert len(listed) == 6 and all(image.is_file() for image in listed)
    by_task = {e["task_id"]: e["image"] for e in found["manifest"]}
    assert found["labels"][by_task[ids["negative"]]] == []  # a background image
    [moved, _] = found["labels"][by_task[ids["move"]]]
    width, height = DETECTION["move"].size
    cx, cy = (MOVED.x + MOVED.w / 2) / width, (MOVED.y + MOVED.h / 2) / height
    assert [float(v) for v in moved.split()[1:3]] == pytest.approx([cx, cy], abs=1e-5)


async def test_pascal_voc_of_the_loop_opens_in_globox(
    channel: grpc.aio.Channel, admin: TestUser, annotator: TestUser, tmp_path: Path, images: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with image_host(images) as host:
        ids = await loop_project(channel, admin, annotator, host)
        created = await create_export(channel, admin, ids["project"], "pascal_voc")
        assert list(created.warnings) == [] and created.total_exported == 6
        await download(channel, admin, created.export_id, work / "export.json")
        run_recipe(recipe("**pascal_voc → a VOC folder"), work)
    elements = readers.check_pascal_voc(work / "export.json")
    [negative] = [e for e in elements if e["image"].endswith("/street/X.png")]
    assert negative["objects"] == []
    annotations = AnnotationSet.from_pascal_voc(work / "voc" / "Annotations")
    assert len(annotations) == 6
    assert annotations.nb_boxes() == sum(len(e["objects"]) for e in elements) == 10
    assert len(list((work / "voc" / "JPEGImages").iterdir())) == 6
