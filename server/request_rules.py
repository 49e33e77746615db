"""Rules every request message obeys, whatever the RPC (applied by the interceptor).

* No string field holds U+0000. PostgreSQL cannot store it in text at all
  and SQLite would keep it silently; refusing it for every string field of
  every request (ids in paths, names, contents, URLs, embedded JSON text, …)
  gives one answer on both engines and leaves no field forgotten. In embedded
  JSON text it is refused escaped too (`\u0000` in a key or a string value of
  task metadata or an annotation result).
* Every JSON value the API accepts (fields marked
  `(annotation.v1.embedded_json)`, and import files, see
  server.json_depth) is at most MAX_JSON_DEPTH levels deep. Deeper
  values cannot be serialised again by the JSON library the exports use
  (it stops at 255 levels) and have no use in annotation data.

Both answer INVALID_REQUEST with `details.field` naming the field, e.g.
"data[3].metadata".

The walk is compiled once per message type. A message whose serialised
bytes hold neither a zero byte, nor its JSON escape, nor more than MAX_JSON_DEPTH
opening brackets cannot break either rule (a string with U+0000 serialises to a
zero byte), so
large requests (an init of 200,000 items) pass after one C-speed scan.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from functools import cache
from operator import attrgetter
from typing import Any

import orjson
from annotation.v1 import options_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from annotation_api.errors import DomainError, ErrorCode
from server.json_depth import deeper_than

MAX_JSON_DEPTH = 64


Check = Callable[[Any], None]


def invalid(field: str, message: str, **details: object) -> DomainError:
    return DomainError(ErrorCode.INVALID_REQUEST, message, {"field": field, **details})


def too_deep(field: str) -> DomainError:
    return invalid(
        field,
        f"{field} is nested more than {MAX_JSON_DEPTH} levels deep",
        max_depth=MAX_JSON_DEPTH,
    )


def check_request(message: object) -> None:
    """Apply the rules to one request message (anything else passes untouched)."""
    if not isinstance(message, Message):
        return
    descriptor = message.DESCRIPTOR
    check: Check | None
    if not _has_large_parts(descriptor):
        check = _checker(descriptor, strings=True)
    else:
        raw = message.SerializeToString()
        if b"\x00" in raw or b"\\u0000" in raw:
            check = _checker(descriptor, strings=True)
        elif raw.count(b"{") + raw.count(b"[") > MAX_JSON_DEPTH:
            check = _checker(descriptor, strings=False)
        else:
            return
    if check is None:
        return
    try:
        check(message)
    except _Violation as violation:
        raise violation.error() from None


class _Violation(Exception):
    """A broken rule, its field path built while it propagates (the happy path builds none)."""

    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.path: deque[str | int] = deque()

    def error(self) -> DomainError:
        field = ""
        for part in self.path:
            field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else part)
        if self.rule == "nul":
            return invalid(field, f"{field} cannot contain the character U+0000")
        return too_deep(field)


def _check_text(value: str) -> None:
    if "\x00" in value:
        raise _Violation("nul")


def _check_json_text(value: str) -> None:
    if "\x00" in value or (_ESCAPED_NUL in value and _holds_nul(value)):
        raise _Violation("nul")
    # each level takes two characters and one opening bracket: most texts need no scan
    if (
        len(value) > 2 * MAX_JSON_DEPTH
        and value.count("{") + value.count("[") > MAX_JSON_DEPTH
        and deeper_than(value, MAX_JSON_DEPTH)
    ):
        raise _Violation("depth")


def _no_nul(values: list[str]) -> bool:
    return "\x00" not in "".join(values)


# U+0000 as a JSON escape; its presence alone does not decide (`\\u0000` is a backslash
# followed by text), the parsed value does.
_ESCAPED_NUL = "\\u0000"


def _holds_nul(text: str) -> bool:
    """Whether a JSON text has U+0000 in a key or a string (False when it is not JSON)."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            if any("\x00" in key for key in item):
                return True
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _no_deep_json(values: list[str]) -> bool:
    """Whether no text can break a JSON text's rules (as _check_json_text's shortcuts)."""
    limit = 2 * MAX_JSON_DEPTH
    return (
        _no_nul(values)
        and _ESCAPED_NUL not in "".join(values)
        and all(
            value.count("{") + value.count("[") <= MAX_JSON_DEPTH
            for value in values
            if len(value) > limit
        )
    )


# What a whole column of a check's values passes at C speed; failing it means a closer look.
_COLUMN_PASSES: dict[Check, Callable[[list[str]], bool]] = {
    _check_text: _no_nul,
    _check_json_text: _no_deep_json,
}


def _is_embedded_json(field: FieldDescriptor) -> bool:
    return bool(field.GetOptions().Extensions[options_pb2.embedded_json])


@cache
def _has_large_parts(descriptor: Descriptor) -> bool:
    """Repeated message fields make a request large; bytes make its scan unhelpful."""
    fields = descriptor.fields
    repeated = any(f.is_repeated and f.type == FieldDescriptor.TYPE_MESSAGE for f in fields)
    return repeated and not any(f.type == FieldDescriptor.TYPE_BYTES for f in fields)


_FieldCheck = tuple[str, bool, bool, Check]
ItemsPass = Callable[[Sequence[Any]], bool]


@cache
def _field_checks(descriptor: Descriptor, *, strings: bool) -> tuple[_FieldCheck, ...]:
    """(name, repeated, has presence, check) of each field of the type with something to
    check: every string field, or with strings=False only the embedded JSON fields."""
    checks: list[_FieldCheck] = []
    for field in descriptor.fields:
        check: Check | None
        if field.type == FieldDescriptor.TYPE_STRING:
            embedded = _is_embedded_json(field)
            check = _check_json_text if embedded else (_check_text if strings else None)
        elif field.message_type is not None:
            entry = field.message_type
            if entry.full_name.startswith("google.protobuf.") or entry.GetOptions().map_entry:
                continue
            check = _checker(entry, strings=strings)
        else:
            continue
        if check is None:
            continue
        has_presence = field.type == FieldDescriptor.TYPE_MESSAGE and not field.is_repeated
        checks.append((field.name, field.is_repeated, has_presence, check))
    return tuple(checks)


@cache
def _checker(descriptor: Descriptor, *, strings: bool) -> Check | None:
    """The check of one message type (None when it has nothing to check)."""
    fields = descriptor.fields_by_name
    checks = [
        (name, repeated, has_presence, check, _items_pass(fields[name], strings))
        for name, repeated, has_presence, check in _field_checks(descriptor, strings=strings)
    ]
    if not checks:
        return None

    def check_message(message: Any) -> None:
        for name, repeated, has_presence, check, items_pass in checks:
            if has_presence and not message.HasField(name):
                continue
            value = getattr(message, name)
            try:
                if not repeated:
                    check(value)
                    continue
                if items_pass is not None and items_pass(value):
                    continue
                index = 0
                for index, item in enumerate(value):  # noqa: B007 - index names the item
                    check(item)
            except _Violation as violation:
                if repeated:
                    violation.path.appendleft(index)
                violation.path.appendleft(name)
                raise

    return check_message


def _items_pass(field: FieldDescriptor, strings: bool) -> ItemsPass | None:
    """For a repeated field of messages made of plain string fields only: whether a list
    of them passes as a whole, column by column at C speed (a batch of 10,000 init items
    costs a few passes instead of 10,000 calls); failing means a closer look, item by item."""
    if not field.is_repeated or field.message_type is None:
        return None
    columns: list[tuple[Callable[[Any], str], Callable[[list[str]], bool]]] = []
    for name, repeated, has_presence, check in _field_checks(field.message_type, strings=strings):
        column_pass = _COLUMN_PASSES.get(check)
        if repeated or has_presence or column_pass is None:
            return None
        columns.append((attrgetter(name), column_pass))

    def items_pass(items: Sequence[Any]) -> bool:
        return all(column_pass(list(map(get, items))) for get, column_pass in columns)

    return items_pass
