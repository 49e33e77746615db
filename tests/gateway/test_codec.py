"""The JSON <-> protobuf codec: one test per JSON rule and per decoding error."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from annotation.v1 import (
    common_pb2,
    export_service_pb2,
    prediction_service_pb2,
    project_service_pb2,
    workflow_service_pb2,
)
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.message_factory import GetMessageClass

from annotation_api.errors import ErrorCode
from gateway.codec import CodecError, message_codec, parse_json
from gateway.descriptors import api_files

InitRequest = project_service_pb2.InitProjectRequest
InitResponse = project_service_pb2.InitProjectResponse

VALID_INIT: dict[str, Any] = {
    "name": "p",
    "task_type": "image_classification",
    "data": [{"id": "a", "content": "https://x/1.jpg", "metadata": {"w": 1}}],
    "external_id": "ext",
    "tags": [{"tag": "cat", "color": "#FF5733"}, {"tag": "dog"}],
}


def decode(message_class: Any, value: Any) -> Any:
    codec = message_codec(message_class.DESCRIPTOR)
    return codec.build(codec.decode_kwargs(value))


def encode(message: Any) -> Any:
    return orjson.loads(message_codec(message.DESCRIPTOR).to_json(message))


def decode_error(message_class: Any, value: Any) -> CodecError:
    with pytest.raises(CodecError) as caught:
        decode(message_class, value)
    return caught.value


def with_changes(**changes: Any) -> dict[str, Any]:
    return {**VALID_INIT, **changes}


# ---- requests ----------------------------------------------------------------


def test_valid_init_request_decodes_every_field() -> None:
    message = decode(InitRequest, VALID_INIT)
    assert message.name == "p"
    assert message.task_type == common_pb2.TASK_TYPE_IMAGE_CLASSIFICATION
    assert message.data[0].id == "a"
    assert message.data[0].content == "https://x/1.jpg"
    assert message.external_id == "ext"
    assert [t.tag for t in message.tags] == ["cat", "dog"]
    assert message.tags[0].color == "#FF5733"
    assert not message.tags[1].HasField("color")


def test_embedded_json_request_field_takes_any_json_value() -> None:
    for value in ({"w": 1, "tags": ["a"]}, [1, 2], "text", 3.5, True):
        item = {"content": "c", "metadata": value}
        message = decode(InitRequest, with_changes(data=[item]))
        assert orjson.loads(message.data[0].metadata) == value


def test_null_means_not_given_and_unknown_fields_are_ignored() -> None:
    message = decode(InitRequest, with_changes(external_id=None, description=None, extra={"x": 1}))
    assert not message.HasField("external_id")
    assert message.description == ""


def test_wrong_type_names_the_field_path() -> None:
    data = [{"content": "a"}, {"content": "b"}, {"content": "c"}, {"content": 5}]
    error = decode_error(InitRequest, with_changes(data=data))
    assert error.code == ErrorCode.INVALID_REQUEST
    assert error.details["field"] == "data[3].content"
    assert error.details["expected"] == "string"
    assert error.details["received"] == "integer"


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"name": 1}, "name", "string"),
        ({"data": {"content": "a"}}, "data", "array"),
        ({"data": ["a"]}, "data[0]", "object"),
        ({"tags": [{"tag": "a", "color": 3}]}, "tags[0].color", "string"),
        ({"task_type": 2}, "task_type", "string"),
    ],
)
def test_each_wrong_json_type_is_invalid_request(
    changes: dict[str, Any], field: str, expected: str
) -> None:
    error = decode_error(InitRequest, with_changes(**changes))
    assert (error.code, error.details["field"], error.details["expected"]) == (
        ErrorCode.INVALID_REQUEST,
        field,
        expected,
    )


def test_body_that_is_not_an_object_is_invalid_request() -> None:
    error = decode_error(InitRequest, [VALID_INIT])
    assert error.code == ErrorCode.INVALID_REQUEST
    assert error.details["expected"] == "object"


def test_unknown_task_type_uses_the_enum_error_code_and_lists_supported_values() -> None:
    error = decode_error(InitRequest, with_changes(task_type="video"))
    assert error.code == ErrorCode.INVALID_TASK_TYPE
    assert error.details == {
        "field": "task_type",
        "value": "video",
        "supported": [
            "text_classification",
            "image_classification",
            "object_detection",
            "ner",
            "polygon",
        ],
    }


def test_unknown_value_of_an_enum_without_the_option_is_invalid_request() -> None:
    error = decode_error(export_service_pb2.CreateExportRequest, {"format": "xml"})
    assert error.code == ErrorCode.INVALID_REQUEST
    assert error.details["field"] == "format"
    assert "pascal_voc" in error.details["supported"]
    assert "unspecified" not in error.details["supported"]


def test_integers_accept_integral_numbers_only_and_check_the_range() -> None:
    request = project_service_pb2.ListTasksRequest
    assert decode(request, {"page_size": 10.0}).page_size == 10
    assert decode_error(request, {"page_size": 1.5}).details["expected"] == "integer"
    assert decode_error(request, {"page_size": "10"}).details["expected"] == "integer"
    assert decode_error(request, {"page_size": True}).details["expected"] == "integer"
    assert decode_error(request, {"page_size": 2**31}).details["maximum"] == 2**31 - 1


def test_booleans_must_be_json_booleans() -> None:
    request = export_service_pb2.CreateExportRequest
    assert decode(request, {"completed_only": False}).completed_only is False
    assert decode_error(request, {"completed_only": "true"}).details == {
        "field": "completed_only",
        "expected": "boolean",
        "received": "string",
    }


def test_bytes_are_base64() -> None:
    request = prediction_service_pb2.ImportPredictionsRequest
    assert decode(request, {"chunk": "aGVsbG8="}).chunk == b"hello"
    assert decode(request, {"chunk": "aGVsbG8"}).chunk == b"hello"  # padding optional
    assert decode_error(request, {"chunk": "!!"}).details["field"] == "chunk"


def test_malformed_json_reports_where_it_broke() -> None:
    with pytest.raises(CodecError) as caught:
        parse_json(b'{"name": "p",\n "data": [}')
    assert caught.value.code == ErrorCode.INVALID_REQUEST
    assert caught.value.details["line"] == 2
    assert caught.value.details["field"] == "body"


# ---- text (path, query, form) ----------------------------------------------------


def test_text_values_are_converted_to_the_field_type() -> None:
    codec = message_codec(project_service_pb2.ListTasksRequest.DESCRIPTOR)
    assert codec.parse_text("page_size", ["25"]) == 25
    assert codec.parse_text("status", ["completed"]) == common_pb2.TASK_STATUS_COMPLETED
    imports = message_codec(prediction_service_pb2.ImportPredictionsRequest.DESCRIPTOR)
    assert imports.parse_text("dry_run", ["true"]) is True
    assert imports.parse_text("dry_run", ["0"]) is False
    assert imports.parse_text("format", ["coco"]) == common_pb2.IMPORT_FORMAT_COCO


@pytest.mark.parametrize(
    ("field", "text", "code"),
    [
        ("page_size", "ten", ErrorCode.INVALID_REQUEST),
        ("status", "done", ErrorCode.INVALID_REQUEST),
    ],
)
def test_bad_text_values_name_the_field(field: str, text: str, code: ErrorCode) -> None:
    codec = message_codec(project_service_pb2.ListTasksRequest.DESCRIPTOR)
    with pytest.raises(CodecError) as caught:
        codec.parse_text(field, [text])
    assert caught.value.code == code
    assert caught.value.details["field"] == field


def test_text_cannot_carry_embedded_json_or_messages() -> None:
    codec = message_codec(InitRequest.DESCRIPTOR)
    assert codec.text_parser("name") is not None
    assert codec.text_parser("data") is None
    assert message_codec(project_service_pb2.TaskInput.DESCRIPTOR).text_parser("metadata") is None


# ---- responses ---------------------------------------------------------------------


def test_response_has_every_field_with_snake_case_names_and_documented_types() -> None:
    response = InitResponse(
        project_id="proj_abc123def456",
        project_name="n",
        task_count=2**40,
        status=common_pb2.PROJECT_STATUS_DRAFT,
        created_at={"seconds": 1770114600},
        config="<View/>",
    )
    assert encode(response) == {
        "project_id": "proj_abc123def456",
        "project_name": "n",
        "task_count": 2**40,
        "status": "draft",
        "created_at": "2026-02-03T10:30:00Z",
        "config": "<View/>",
        "external_id": None,
    }


def test_unset_message_fields_and_unspecified_enums_are_null() -> None:
    body = encode(export_service_pb2.GetExportResponse(export_id="e"))
    assert body["expires_at"] is None
    assert body["error_message"] is None
    assert body["callback_status"] is None
    assert body["callback_attempts"] == 0
    assert body["file_size"] == 0


def test_optional_fields_set_to_empty_are_not_null() -> None:
    assert encode(InitResponse(external_id=""))["external_id"] == ""


@pytest.mark.parametrize(
    ("nanos", "text"),
    [
        (0, "2026-02-03T10:30:00Z"),
        (500_000_000, "2026-02-03T10:30:00.500Z"),
        (1_000, "2026-02-03T10:30:00.000001Z"),
        (7, "2026-02-03T10:30:00.000000007Z"),
    ],
)
def test_timestamps_are_utc_with_z_and_fraction_only_when_nonzero(nanos: int, text: str) -> None:
    response = InitResponse(created_at={"seconds": 1770114600, "nanos": nanos})
    assert encode(response)["created_at"] == text


def test_double_is_a_json_number_and_repeated_messages_are_arrays() -> None:
    response = project_service_pb2.GetProgressResponse(
        completion_percentage=45.5,
        annotators=[project_service_pb2.AnnotatorProgress(user_id="u", completion_rate=50.0)],
    )
    body = encode(response)
    assert body["completion_percentage"] == 45.5
    assert body["annotators"][0]["completion_rate"] == 50.0
    assert body["annotators"][0]["user_id"] == "u"
    assert body["last_updated"] is None


def test_embedded_json_response_field_is_the_json_value() -> None:
    response = prediction_service_pb2.ImportPredictionsResponse(
        errors=[prediction_service_pb2.ImportError(task_match='{"display_id":"T-9"}', reason="x")]
    )
    body = encode(response)
    assert body["errors"] == [{"task_match": {"display_id": "T-9"}, "reason": "x"}]


def test_repeated_enums_are_string_arrays() -> None:
    response = export_service_pb2.ExportFormatSupport(
        format=common_pb2.EXPORT_FORMAT_PASCAL_VOC,
        task_types=[common_pb2.TASK_TYPE_OBJECT_DETECTION, common_pb2.TASK_TYPE_POLYGON],
    )
    assert encode(response)["format"] == "pascal_voc"
    assert encode(response)["task_types"] == ["object_detection", "polygon"]


def test_round_trip_of_a_workflow_request() -> None:
    request = decode(
        workflow_service_pb2.SubmitAnnotationRequest,
        {"task_id": "1", "result": [{"type": "choices", "value": {"choices": ["正面"]}}]},
    )
    assert orjson.loads(request.result)[0]["value"]["choices"] == ["正面"]
    assert encode(request)["result"][0]["type"] == "choices"


def test_every_message_of_the_api_has_a_codec() -> None:
    for file in api_files():
        for message_type in file.message_types_by_name.values():
            codec = message_codec(message_type)
            assert codec.encode(GetMessageClass(message_type)()) is not None


# ---- shapes the API does not use yet: maps, oneofs, request timestamps, Struct --------


def _scratch_message() -> Any:
    """A message built at test time with a map, a oneof, a Timestamp and a Struct."""
    pool = descriptor_pool.Default()
    name = "gateway_codec_test.Scratch"
    try:
        return GetMessageClass(pool.FindMessageTypeByName(name))
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto(
        name="gateway_codec_test.proto",
        package="gateway_codec_test",
        syntax="proto3",
        dependency=["google/protobuf/timestamp.proto", "google/protobuf/struct.proto"],
    )
    message = proto.message_type.add(name="Scratch")
    entry = message.nested_type.add(name="CountsEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=9, label=1)
    entry.field.add(name="value", number=2, type=3, label=1)
    message.oneof_decl.add(name="choice")
    field = descriptor_pb2.FieldDescriptorProto
    message.field.add(
        name="counts", number=1, label=field.LABEL_REPEATED, type=field.TYPE_MESSAGE,
        type_name=".gateway_codec_test.Scratch.CountsEntry",
    )  # fmt: skip
    message.field.add(name="left", number=2, type=field.TYPE_STRING, oneof_index=0)
    message.field.add(name="right", number=3, type=field.TYPE_INT32, oneof_index=0)
    message.field.add(
        name="at", number=4, type=field.TYPE_MESSAGE, type_name=".google.protobuf.Timestamp"
    )
    message.field.add(
        name="extra", number=5, type=field.TYPE_MESSAGE, type_name=".google.protobuf.Struct"
    )
    pool.Add(proto)
    return GetMessageClass(pool.FindMessageTypeByName(name))


def test_maps_oneofs_request_timestamps_and_structs() -> None:
    scratch = _scratch_message()
    message = decode(scratch, {"counts": {"a": 1}, "left": "x", "at": "2026-02-03T18:30:00+08:00"})
    assert dict(message.counts) == {"a": 1}
    assert message.WhichOneof("choice") == "left"
    assert message.at.seconds == 1770114600
    assert encode(message) == {
        "counts": {"a": 1},
        "left": "x",
        "right": None,
        "at": "2026-02-03T10:30:00Z",
        "extra": None,
    }
    assert encode(decode(scratch, {"extra": {"k": [1, "v"]}}))["extra"] == {"k": [1, "v"]}
    assert decode_error(scratch, {"extra": [1]}).details["expected"] == "object"
    assert decode_error(scratch, {"left": "x", "right": 1}).details["oneof"] == "choice"
    assert decode_error(scratch, {"counts": {"a": "1"}}).details["field"] == "counts.a"
    assert decode_error(scratch, {"at": "2026-02-03T10:30:00"}).details["field"] == "at"
