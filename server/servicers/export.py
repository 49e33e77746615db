"""ExportService over gRPC: parse, call the export domain, map the result."""

from __future__ import annotations

from collections.abc import AsyncIterator

from annotation.v1 import common_pb2, export_service_pb2, export_service_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

from annotation_api.enum_names import enum_to_name, name_to_enum
from annotation_api.settings import Settings
from server.auth import current_caller
from server.exports.callbacks import download_path
from server.exports.lifecycle import has_file
from server.exports.service import ExportService, list_export_formats
from storage.database import Database
from storage.exports import ExportRecord

EXPORT_FORMAT = common_pb2.ExportFormat.DESCRIPTOR
EXPORT_STATUS = common_pb2.ExportStatus.DESCRIPTOR
CALLBACK_STATUS = common_pb2.CallbackStatus.DESCRIPTOR
TASK_TYPE = common_pb2.TaskType.DESCRIPTOR


def _timestamp(record_time: object) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(record_time)  # type: ignore[arg-type]
    return stamp


def _export_details(record: ExportRecord) -> export_service_pb2.GetExportResponse:
    response = export_service_pb2.GetExportResponse(
        export_id=record.export_id,
        project_id=record.project_id,
        format=name_to_enum(EXPORT_FORMAT, record.format),
        status=name_to_enum(EXPORT_STATUS, record.status),
        completed_only=record.completed_only,
        total_exported=record.total_exported,
        # only a completed export has a file to download.
        file_url=download_path(record.export_id) if has_file(record.status) else "",
        file_name=record.file_name,
        file_size=record.file_size,
        created_at=_timestamp(record.created_at),
        expires_at=_timestamp(record.expires_at),
        callback_status=name_to_enum(CALLBACK_STATUS, record.callback_status or ""),
        callback_attempts=record.callback_attempts,
        warnings=_warnings(record),
        accepted_only=record.accepted_only,
        ground_truth_only=record.ground_truth_only,
        consensus=record.consensus,
    )
    if record.error_message is not None:
        response.error_message = record.error_message
    if record.callback_url is not None:
        response.callback_url = record.callback_url
    return response


def _warnings(record: ExportRecord) -> list[export_service_pb2.ExportWarning]:
    return [
        export_service_pb2.ExportWarning(
            task_id=w.task_id, display_id=w.display_id, message=w.message
        )
        for w in record.warnings
    ]


class ExportServicer(export_service_pb2_grpc.ExportServiceServicer):
    def __init__(self, settings: Settings, database: Database) -> None:
        self._exports = ExportService(settings, database)

    async def CreateExport(
        self, request: export_service_pb2.CreateExportRequest, context: aio.ServicerContext
    ) -> export_service_pb2.CreateExportResponse:
        record = await self._exports.create_export(
            current_caller(),
            project_id=request.project_id,
            format_name=enum_to_name(EXPORT_FORMAT, request.format) or None,
            completed_only=request.completed_only if request.HasField("completed_only") else None,
            callback_url=request.callback_url if request.HasField("callback_url") else None,
            accepted_only=request.accepted_only,
            ground_truth_only=request.ground_truth_only,
            consensus=request.consensus,
        )
        return export_service_pb2.CreateExportResponse(
            project_id=record.project_id,
            format=name_to_enum(EXPORT_FORMAT, record.format),
            total_exported=record.total_exported,
            file_url=download_path(record.export_id),
            file_name=record.file_name,
            file_size=record.file_size,
            expires_at=_timestamp(record.expires_at),
            export_id=record.export_id,
            warnings=_warnings(record),
        )

    async def GetExport(
        self, request: export_service_pb2.GetExportRequest, context: aio.ServicerContext
    ) -> export_service_pb2.GetExportResponse:
        record = await self._exports.get_export(current_caller(), request.export_id)
        return _export_details(record)

    async def DownloadExport(
        self, request: export_service_pb2.DownloadExportRequest, context: aio.ServicerContext
    ) -> AsyncIterator[export_service_pb2.DownloadExportResponse]:
        download = await self._exports.open_download(current_caller(), request.export_id)
        first = True
        async for chunk in download.chunks:
            if first:
                first = False
                yield export_service_pb2.DownloadExportResponse(
                    file_name=download.file_name,
                    content_type=download.content_type,
                    file_size=download.file_size,
                    chunk=chunk,
                )
            else:
                yield export_service_pb2.DownloadExportResponse(chunk=chunk)
        if first:  # an empty file still announces its name, type and size
            yield export_service_pb2.DownloadExportResponse(
                file_name=download.file_name,
                content_type=download.content_type,
                file_size=download.file_size,
            )

    async def ListExportFormats(
        self, request: export_service_pb2.ListExportFormatsRequest, context: aio.ServicerContext
    ) -> export_service_pb2.ListExportFormatsResponse:
        current_caller()
        return export_service_pb2.ListExportFormatsResponse(
            formats=[
                export_service_pb2.ExportFormatSupport(
                    format=name_to_enum(EXPORT_FORMAT, spec.name),
                    task_types=[name_to_enum(TASK_TYPE, t) for t in spec.task_types],
                    file_extension=spec.extension,
                    content_type=spec.content_type,
                )
                for spec in list_export_formats()
            ]
        )
