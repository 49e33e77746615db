from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor
EMBEDDED_JSON_FIELD_NUMBER: _ClassVar[int]
embedded_json: _descriptor.FieldDescriptor
INVALID_VALUE_ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
invalid_value_error_code: _descriptor.FieldDescriptor
IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
idempotency_key: _descriptor.FieldDescriptor
