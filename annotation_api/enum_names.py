"""Proto enum values <-> the lowercase strings of the domain and of the REST JSON.

One naming rule, used by the servicers (proto <-> domain strings) and by the
gateway (proto <-> JSON): TASK_TYPE_IMAGE_CLASSIFICATION of enum TaskType is
"image_classification": the enum's name in UPPER_SNAKE (HTTPMethod ->
HTTP_METHOD) and "_" are stripped and the rest is lowercased. The zero value
named *_UNSPECIFIED means "not given": "" for the domain, null in JSON.
"""

from __future__ import annotations

import re
from functools import cache

from google.protobuf.descriptor import EnumDescriptor

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def enum_prefix(enum: EnumDescriptor) -> str:
    """UPPER_SNAKE of the enum's name plus "_": TaskType -> TASK_TYPE_."""
    return _WORD_BOUNDARY.sub("_", enum.name).upper() + "_"


def is_unset_value(enum: EnumDescriptor, number: int) -> bool:
    """The zero value named *_UNSPECIFIED means "not given"."""
    value = enum.values_by_number.get(number)
    return number == 0 and value is not None and value.name.endswith("_UNSPECIFIED")


@cache
def enum_names(enum: EnumDescriptor) -> dict[int, str]:
    """Number -> lowercase name of every value but the unspecified zero value (first alias wins)."""
    prefix = enum_prefix(enum)
    names: dict[int, str] = {}
    for value in enum.values:
        if is_unset_value(enum, value.number) or value.number in names:
            continue
        names[value.number] = value.name.removeprefix(prefix).lower()
    return names


@cache
def _numbers(enum: EnumDescriptor) -> dict[str, int]:
    return {name: number for number, name in enum_names(enum).items()}


def enum_to_name(enum: EnumDescriptor, number: int) -> str:
    """The domain string of a proto enum number; "" for 0; the number's text if unknown.

    An unknown number stays visible (e.g. "7") so the domain can name it in its error.
    """
    if number == 0:
        return ""
    return enum_names(enum).get(number, str(number))


def name_to_enum(enum: EnumDescriptor, name: str) -> int:
    """The proto enum number of a domain string (0 when the string has none)."""
    return _numbers(enum).get(name, 0)
