"""Proto enum values <-> the domain's lowercase strings, by one naming rule.

TASK_TYPE_IMAGE_CLASSIFICATION of enum TaskType <-> "image_classification":
strip UPPER_SNAKE(enum name) + "_" and lowercase. The zero (UNSPECIFIED)
value maps to "" ("not given").
"""

from __future__ import annotations

import re
from functools import cache

from google.protobuf.descriptor import EnumDescriptor


def _upper_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


@cache
def _names(enum: EnumDescriptor) -> dict[int, str]:
    prefix = _upper_snake(enum.name) + "_"
    return {
        value.number: value.name.removeprefix(prefix).lower()
        for value in enum.values
        if value.number != 0
    }


@cache
def _numbers(enum: EnumDescriptor) -> dict[str, int]:
    return {name: number for number, name in _names(enum).items()}


def enum_to_name(enum: EnumDescriptor, number: int) -> str:
    """The domain string of a proto enum number; "" for 0; the number's text if unknown.

    An unknown number stays visible (e.g. "7") so the domain can name it in its error.
    """
    if number == 0:
        return ""
    return _names(enum).get(number, str(number))


def name_to_enum(enum: EnumDescriptor, name: str) -> int:
    """The proto enum number of a domain string (0 when the string has none)."""
    return _numbers(enum).get(name, 0)
