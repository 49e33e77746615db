from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor
EMBEDDED_JSON_FIELD_NUMBER: _ClassVar[int]
embedded_json: _descriptor.FieldDescriptor
MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
max_length: _descriptor.FieldDescriptor
PATTERN_FIELD_NUMBER: _ClassVar[int]
pattern: _descriptor.FieldDescriptor
MINIMUM_FIELD_NUMBER: _ClassVar[int]
minimum: _descriptor.FieldDescriptor
MEDIA_TYPES_FIELD_NUMBER: _ClassVar[int]
media_types: _descriptor.FieldDescriptor
MAXIMUM_FIELD_NUMBER: _ClassVar[int]
maximum: _descriptor.FieldDescriptor
MIN_LENGTH_FIELD_NUMBER: _ClassVar[int]
min_length: _descriptor.FieldDescriptor
UNIQUE_ITEMS_FIELD_NUMBER: _ClassVar[int]
unique_items: _descriptor.FieldDescriptor
INVALID_VALUE_ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
invalid_value_error_code: _descriptor.FieldDescriptor
IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
idempotency_key: _descriptor.FieldDescriptor
STREAMED_FIELD_FIELD_NUMBER: _ClassVar[int]
streamed_field: _descriptor.FieldDescriptor
