"""One naming rule for proto enum values, shared by the servicers and the gateway."""

from __future__ import annotations

from annotation.v1 import common_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import EnumDescriptor

from annotation_api.enum_names import enum_names, enum_to_name, name_to_enum


def acronym_enum() -> EnumDescriptor:
    """enum HTTPMethod { HTTP_METHOD_UNSPECIFIED = 0; HTTP_METHOD_GET = 1; }"""
    file = descriptor_pb2.FileDescriptorProto(name="acronym.proto", package="acronym")
    enum = file.enum_type.add(name="HTTPMethod")
    enum.value.add(name="HTTP_METHOD_UNSPECIFIED", number=0)
    enum.value.add(name="HTTP_METHOD_GET", number=1)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return pool.FindEnumTypeByName("acronym.HTTPMethod")


def test_an_acronym_in_the_enum_name_is_one_word() -> None:
    enum = acronym_enum()
    assert enum_names(enum) == {1: "get"}
    assert name_to_enum(enum, "get") == 1 and enum_to_name(enum, 1) == "get"


def test_domain_strings_round_trip() -> None:
    task_type = common_pb2.TaskType.DESCRIPTOR
    number = common_pb2.TASK_TYPE_IMAGE_CLASSIFICATION
    assert enum_to_name(task_type, number) == "image_classification"
    assert name_to_enum(task_type, "image_classification") == number
    assert enum_to_name(task_type, 0) == "" and name_to_enum(task_type, "nope") == 0
    assert enum_to_name(task_type, 999) == "999"
