"""InitProject over gRPC: the happy path, every validation rule, configs and colours.

Validation tests start from one valid request and change one thing each.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

import grpc
import orjson
import pytest
from annotation.v1 import common_pb2, project_service_pb2
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from label_studio_sdk.label_interface import LabelInterface
from sqlalchemy import select

from storage.database import Database
from storage.models import AuditLog, Label, Task
from tests.helpers import TestUser, rpc_error

Request = project_service_pb2.InitProjectRequest
Item = project_service_pb2.TaskInput
Tag = common_pb2.TagInput


def valid_request(**changes: object) -> project_service_pb2.InitProjectRequest:
    request = Request(
        name="图像分类项目-批次001",
        description="对商品图片进行分类标注",
        task_type=common_pb2.TASK_TYPE_IMAGE_CLASSIFICATION,
        data=[
            Item(
                id="ext_001",
                content="https://example.com/images/product1.jpg",
                metadata='{"batch": "001", "source": "商品库"}',
            ),
            Item(id="ext_002", content="images/product2.jpg"),
        ],
        external_id="sample_center_proj_001",
        tags=[Tag(tag="猫猫", color="#FF5733"), Tag(tag="狗狗", color="#33FF57"), Tag(tag="其他")],
    )
    for field, value in changes.items():
        if isinstance(value, list):
            request.ClearField(field)
            getattr(request, field).extend(value)
        elif value is None:
            request.ClearField(field)
        else:
            setattr(request, field, value)
    return request


async def init_error(
    stub: ProjectServiceStub, user: TestUser, request: project_service_pb2.InitProjectRequest
):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.InitProject(request, metadata=user.metadata)
    return rpc_error(caught.value)


async def test_init_creates_a_draft_project(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    response = await project_stub.InitProject(valid_request(), metadata=admin.metadata)

    assert re.fullmatch(r"proj_[0-9a-f]{12}", response.project_id)
    assert response.project_name == "图像分类项目-批次001"
    assert response.task_count == 2
    assert response.status == common_pb2.PROJECT_STATUS_DRAFT
    assert response.external_id == "sample_center_proj_001"
    assert response.created_at.seconds > 0
    root = ElementTree.fromstring(response.config)
    choices = root.find("Choices")
    assert root.find("Image").attrib == {"name": "image", "value": "$image"}
    assert choices is not None and choices.attrib == {"name": "label", "toName": "image"}
    assert [c.attrib["value"] for c in choices] == ["猫猫", "狗狗", "其他"]

    async with database.read() as conn:
        tasks = (await conn.execute(select(Task).order_by(Task.id))).all()
        labels = (await conn.execute(select(Label).order_by(Label.position))).all()
        audit = (await conn.execute(select(AuditLog))).all()
    assert [(t.position, t.external_id, t.file_path, t.status) for t in tasks] == [
        (0, "ext_001", "https://example.com/images/product1.jpg", "pending"),
        (1, "ext_002", "images/product2.jpg", "pending"),
    ]
    assert orjson.loads(tasks[0].metadata_json) == {"batch": "001", "source": "商品库"}
    assert orjson.loads(tasks[1].metadata_json) == {}
    assert [(lb.name, lb.color) for lb in labels][:2] == [("猫猫", "#FF5733"), ("狗狗", "#33FF57")]
    assert re.fullmatch(r"#[0-9A-F]{6}", labels[2].color)
    assert labels[2].color not in {"#FF5733", "#33FF57"}
    assert [(a.action, a.actor_id, a.project_id) for a in audit] == [
        ("projects.init", admin.user_id, response.project_id)
    ]
    assert orjson.loads(audit[0].detail_json)["task_count"] == 2


async def test_init_without_external_id_leaves_it_unset(
    project_stub: ProjectServiceStub, admin: TestUser
) -> None:
    response = await project_stub.InitProject(
        valid_request(external_id=None), metadata=admin.metadata
    )
    assert not response.HasField("external_id")


@pytest.mark.parametrize(
    ("task_type", "object_tag", "control_tag", "child_tag"),
    [
        (common_pb2.TASK_TYPE_TEXT_CLASSIFICATION, "Text", "Choices", "Choice"),
        (common_pb2.TASK_TYPE_IMAGE_CLASSIFICATION, "Image", "Choices", "Choice"),
        (common_pb2.TASK_TYPE_OBJECT_DETECTION, "Image", "RectangleLabels", "Label"),
        (common_pb2.TASK_TYPE_NER, "Text", "Labels", "Label"),
        (common_pb2.TASK_TYPE_POLYGON, "Image", "PolygonLabels", "Label"),
    ],
)
async def test_config_per_task_type_escapes_labels(
    project_stub: ProjectServiceStub,
    admin: TestUser,
    task_type: int,
    object_tag: str,
    control_tag: str,
    child_tag: str,
) -> None:
    tricky = "a<b & \"c\" 'd'>"
    request = valid_request(
        task_type=task_type, tags=[Tag(tag=tricky, color="#123456"), Tag(tag="正面")]
    )
    response = await project_stub.InitProject(request, metadata=admin.metadata)

    root = ElementTree.fromstring(response.config)
    assert root.tag == "View"
    name = "text" if object_tag == "Text" else "image"
    assert root.find(object_tag).attrib == {"name": name, "value": f"${name}"}
    control = root.find(control_tag)
    assert control is not None
    assert control.attrib == {"name": "label", "toName": name}
    children = list(control)
    assert [c.tag for c in children] == [child_tag, child_tag]
    assert [c.attrib["value"] for c in children] == [tricky, "正面"]
    if child_tag == "Label":
        assert children[0].attrib["background"] == "#123456"
        assert re.fullmatch(r"#[0-9A-F]{6}", children[1].attrib["background"])


async def test_config_without_tags_has_no_labels(
    project_stub: ProjectServiceStub, admin: TestUser
) -> None:
    request = valid_request(task_type=common_pb2.TASK_TYPE_NER, tags=[])
    response = await project_stub.InitProject(request, metadata=admin.metadata)
    root = ElementTree.fromstring(response.config)
    # an empty <Labels> is invalid in Label Studio: no control until labels exist
    assert root.find("Labels") is None and root.find("Text") is not None
    LabelInterface(response.config).validate()


async def test_generated_colours_are_deterministic_and_distinct(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    tags = [Tag(tag=f"t{i}") for i in range(40)] + [Tag(tag="given", color="#f44336")]
    for _ in range(2):
        await project_stub.InitProject(valid_request(tags=tags), metadata=admin.metadata)
    async with database.read() as conn:
        rows = (await conn.execute(select(Label).order_by(Label.id))).all()
    first, second = rows[:41], rows[41:]
    assert [r.color for r in first] == [r.color for r in second]
    colors = [r.color.upper() for r in first]
    assert len(set(colors)) == 41
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in colors)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"data": []}, "data"),
        ({"data": [Item(content="https://e.com/a.jpg"), Item(content="")]}, "data[1].content"),
        ({"data": [Item(content="  ")]}, "data[0].content"),
        ({"data": [Item(content="ftp://e.com/a.jpg")]}, "data[0].content"),
        ({"data": [Item(content="javascript:alert(1)")]}, "data[0].content"),
        ({"data": [Item(content="line\nbreak.jpg")]}, "data[0].content"),
        (
            {
                "data": [
                    Item(id="a", content="x.jpg"),
                    Item(id="b", content="y.jpg"),
                    Item(id="a", content="z.jpg"),
                ]
            },
            "data[2].id",
        ),
        ({"data": [Item(id="", content="x.jpg")]}, "data[0].id"),
        ({"data": [Item(content="x.jpg", metadata="[1, 2]")]}, "data[0].metadata"),
        ({"data": [Item(content="x.jpg", metadata="{not json")]}, "data[0].metadata"),
        ({"tags": [Tag(tag="")]}, "tags[0].tag"),
        ({"tags": [Tag(tag="a"), Tag(tag=" a ")]}, "tags[1].tag"),
        ({"tags": [Tag(tag="a"), Tag(tag="two\nlines")]}, "tags[1].tag"),
        ({"tags": [Tag(tag="para\u2029graph")]}, "tags[0].tag"),
        ({"tags": [Tag(tag="a", color="red")]}, "tags[0].color"),
        ({"tags": [Tag(tag="a", color="#12345")]}, "tags[0].color"),
        ({"tags": [Tag(tag="a", color="#GGGGGG")]}, "tags[0].color"),
        ({"external_id": "e" * 256}, "external_id"),
    ],
)
async def test_invalid_request_names_the_field(
    project_stub: ProjectServiceStub, admin: TestUser, changes: dict[str, object], field: str
) -> None:
    error = await init_error(project_stub, admin, valid_request(**changes))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.error_code == "INVALID_REQUEST"
    assert error.details["field"] == field


async def test_text_content_may_be_any_text(
    project_stub: ProjectServiceStub, admin: TestUser
) -> None:
    request = valid_request(
        task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
        data=[Item(content="ftp:// is fine in a text"), Item(content="多行\n文本")],
    )
    response = await project_stub.InitProject(request, metadata=admin.metadata)
    assert response.task_count == 2


@pytest.mark.parametrize("task_type", [0, 99])
async def test_invalid_task_type_lists_supported(
    project_stub: ProjectServiceStub, admin: TestUser, task_type: int
) -> None:
    error = await init_error(project_stub, admin, valid_request(task_type=task_type))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.error_code == "INVALID_TASK_TYPE"
    assert error.details["supported"] == [
        "text_classification",
        "image_classification",
        "object_detection",
        "ner",
        "polygon",
    ]


async def test_invalid_request_writes_nothing(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    request = valid_request(data=[Item(content=f"{i}.jpg") for i in range(100)] + [Item()])
    await init_error(project_stub, admin, request)
    async with database.read() as conn:
        assert (await conn.execute(select(Task))).first() is None
        assert (await conn.execute(select(AuditLog))).first() is None


@pytest.mark.slow
async def test_init_of_200000_tasks(
    project_stub: ProjectServiceStub, admin: TestUser, database: Database
) -> None:
    count = 200_000
    request = Request(
        name="large",
        task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
        data=[
            Item(id=f"ext_{i}", content=f"评论 {i}", metadata='{"batch": "001"}')
            for i in range(count)
        ],
        tags=[Tag(tag="正面"), Tag(tag="负面")],
    )
    response = await project_stub.InitProject(request, metadata=admin.metadata, timeout=120)
    assert response.task_count == count

    progress = await project_stub.GetProgress(
        project_service_pb2.GetProgressRequest(project_id=response.project_id),
        metadata=admin.metadata,
    )
    assert progress.total_tasks == progress.pending_tasks == count
    async with database.read() as conn:
        last = (
            await conn.execute(select(Task.position, Task.external_id).order_by(Task.id.desc()))
        ).first()
    assert last == (count - 1, f"ext_{count - 1}")


def large_items(count: int, **changes: Item) -> list[Item]:
    """Text items 0..count-1 (id ext_i); `changes` replaces items by index ("i5": Item)."""
    made = [Item(id=f"ext_{i}", content=f"text {i}", metadata='{"n": 1}') for i in range(count)]
    for key, item in changes.items():
        made[int(key[1:])] = item
    return made


@pytest.mark.parametrize(
    ("changes", "field", "first_index"),
    [
        # the repeat's batch passes whole; a later batch has the first other error
        ({"i12000": Item(id="ext_5", content="again"), "i21000": Item(content=" ")}, 12000, 5),
        # the repeat and a later error in the same batch
        ({"i12000": Item(id="ext_5", content="again"), "i15000": Item(content=" ")}, 12000, 5),
        # an item's id rule comes before its metadata rule
        ({"i12000": Item(id="ext_5", content="again", metadata="[]")}, 12000, 5),
        # repeated within a later batch, first given in an earlier one
        (
            {"i12000": Item(id="ext_5", content="a"), "i12001": Item(id="ext_5", content="b")},
            12000,
            5,
        ),
        # a content error comes before a later repeat
        ({"i11000": Item(content=""), "i12000": Item(id="ext_5", content="again")}, 11000, None),
    ],
)
async def test_the_first_error_of_a_large_request_names_its_item(
    project_stub: ProjectServiceStub,
    admin: TestUser,
    database: Database,
    changes: dict[str, Item],
    field: int,
    first_index: int | None,
) -> None:
    """Ids are unique per request across the batches a large request is checked in,
    and the first item that breaks any rule is the one named."""
    request = valid_request(
        task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION, data=large_items(25_000, **changes)
    )
    error = await init_error(project_stub, admin, request)
    assert error.error_code == "INVALID_REQUEST"
    assert (
        error.details["field"] == f"data[{field}].{'id' if first_index is not None else 'content'}"
    )
    assert error.details.get("first_index") == first_index
    async with database.read() as conn:
        assert (await conn.execute(select(Task))).first() is None
