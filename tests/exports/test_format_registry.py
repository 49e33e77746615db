"""The export format registry and the API's ExportFormat enum name the same formats."""

from __future__ import annotations

from annotation.v1 import common_pb2

from annotation_api.enum_names import enum_to_name, name_to_enum
from server.exports.formats.registry import FORMATS
from server.vocabulary import ExportFormat, TaskType

EXPORT_FORMAT = common_pb2.ExportFormat.DESCRIPTOR


def test_registry_and_proto_enum_name_the_same_formats_in_the_same_order() -> None:
    proto_names = [enum_to_name(EXPORT_FORMAT, v.number) for v in EXPORT_FORMAT.values[1:]]
    assert proto_names == list(FORMATS) == [f.value for f in ExportFormat]
    for name in FORMATS:
        assert name_to_enum(EXPORT_FORMAT, name) != 0, name


def test_every_task_type_has_json_and_csv_and_a_known_set_of_formats() -> None:
    for spec in FORMATS.values():
        assert set(spec.task_types) <= set(TaskType), spec.name
    for task_type in TaskType:
        assert {"json", "csv"} <= {n for n, s in FORMATS.items() if task_type in s.task_types}
