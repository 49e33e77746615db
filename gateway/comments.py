"""The protos' comments, by full name, for the OpenAPI document.

scripts/generate_protos.py compiles a descriptor set with source info
(generated/annotation/v1/descriptors.binpb); its locations hold the leading
comment of every service, method, message, field and enum. The generated
Python modules do not keep comments, hence this file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources

from google.protobuf import descriptor_pb2

DESCRIPTOR_SET = "descriptors.binpb"

# Field numbers of the descriptor messages that appear in a location's path.
_FILE_MESSAGES, _FILE_ENUMS, _FILE_SERVICES = 4, 5, 6
_MESSAGE_FIELDS, _MESSAGE_NESTED, _MESSAGE_ENUMS = 2, 3, 4
_ENUM_VALUES = 2
_SERVICE_METHODS = 2


@cache
def proto_comments() -> dict[str, str]:
    """Full name (e.g. `annotation.v1.InitProjectRequest.name`) -> its leading comment."""
    data = resources.files("annotation.v1").joinpath(DESCRIPTOR_SET).read_bytes()
    files = descriptor_pb2.FileDescriptorSet.FromString(data)
    comments: dict[str, str] = {}
    for file in files.file:
        names = dict(_names_by_path(file))
        for location in file.source_code_info.location:
            name = names.get(tuple(location.path))
            text = " ".join(line.strip() for line in location.leading_comments.splitlines())
            if name is not None and text:
                comments[name] = text.strip()
    return comments


def comment_of(full_name: str) -> str:
    """The leading comment of a proto element ("" when it has none)."""
    return proto_comments().get(full_name, "")


def first_sentence(text: str) -> str:
    """The comment's first sentence, without its final period (an operation summary)."""
    sentence, _, _ = text.partition(". ")
    return sentence.removesuffix(".")


def _names_by_path(
    file: descriptor_pb2.FileDescriptorProto,
) -> Iterator[tuple[tuple[int, ...], str]]:
    package = file.package
    for i, message in enumerate(file.message_type):
        yield from _message_names(message, f"{package}.{message.name}", (_FILE_MESSAGES, i))
    for i, enum in enumerate(file.enum_type):
        yield from _enum_names(enum, f"{package}.{enum.name}", (_FILE_ENUMS, i))
    for i, service in enumerate(file.service):
        name = f"{package}.{service.name}"
        yield (_FILE_SERVICES, i), name
        for j, method in enumerate(service.method):
            yield (_FILE_SERVICES, i, _SERVICE_METHODS, j), f"{name}.{method.name}"


def _message_names(
    message: descriptor_pb2.DescriptorProto, name: str, path: tuple[int, ...]
) -> Iterator[tuple[tuple[int, ...], str]]:
    yield path, name
    for j, field in enumerate(message.field):
        yield (*path, _MESSAGE_FIELDS, j), f"{name}.{field.name}"
    for j, nested in enumerate(message.nested_type):
        yield from _message_names(nested, f"{name}.{nested.name}", (*path, _MESSAGE_NESTED, j))
    for j, enum in enumerate(message.enum_type):
        yield from _enum_names(enum, f"{name}.{enum.name}", (*path, _MESSAGE_ENUMS, j))


def _enum_names(
    enum: descriptor_pb2.EnumDescriptorProto, name: str, path: Sequence[int]
) -> Iterator[tuple[tuple[int, ...], str]]:
    yield tuple(path), name
    for j, value in enumerate(enum.value):
        yield (*path, _ENUM_VALUES, j), f"{name}.{value.name}"
