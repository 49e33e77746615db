"""The limits the protos declare on request fields, read by the rules that enforce them.

A field's `(annotation.v1.max_length)`, `min_length`, `minimum` and `maximum`
options (protos/annotation/v1/options.proto) are the one statement of a limit:
the OpenAPI document shows them (gateway/openapi.py) and the server's rules
take their numbers from here, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from annotation.v1 import options_pb2
from google.protobuf.message import Message


def field_limit(message: type[Message], field: str, option: Any) -> int:
    """The value of a limit option on message.field; TypeError when it is not declared."""
    descriptor = message.DESCRIPTOR.fields_by_name[field]
    options = descriptor.GetOptions()
    if not options.HasExtension(option):
        raise TypeError(f"{descriptor.full_name} declares no {option.name}")
    return int(options.Extensions[option])


MAX_LENGTH = options_pb2.max_length
MIN_LENGTH = options_pb2.min_length
MINIMUM = options_pb2.minimum
MAXIMUM = options_pb2.maximum
