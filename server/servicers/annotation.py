"""AnnotationService over gRPC: a client stream in, one report out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeAlias

from annotation.v1 import annotation_service_pb2, annotation_service_pb2_grpc

from annotation_api.errors import DomainError, ErrorCode
from annotation_api.settings import Settings
from server.annotations_import.service import (
    AnnotationImportFormat,
    AnnotationImportOptions,
    AnnotationImportReport,
    AnnotationImportService,
)
from server.auth import current_caller
from server.servicers.uploads import file_chunks, first_message, import_errors, import_format
from storage.database import Database

Request: TypeAlias = annotation_service_pb2.ImportAnnotationsRequest

_FORMATS = {
    annotation_service_pb2.ANNOTATION_IMPORT_FORMAT_UNSPECIFIED: (
        AnnotationImportFormat.LABEL_STUDIO_JSON
    ),
    annotation_service_pb2.ANNOTATION_IMPORT_FORMAT_LABEL_STUDIO_JSON: (
        AnnotationImportFormat.LABEL_STUDIO_JSON
    ),
    annotation_service_pb2.ANNOTATION_IMPORT_FORMAT_COCO: AnnotationImportFormat.COCO,
}


class AnnotationServicer(annotation_service_pb2_grpc.AnnotationServiceServicer):
    def __init__(self, settings: Settings, database: Database) -> None:
        self._service = AnnotationImportService(settings, database)

    async def ImportAnnotations(
        self, request_iterator: AsyncIterator[Request], context: Any
    ) -> annotation_service_pb2.ImportAnnotationsResponse:
        first = await first_message(request_iterator)
        report = await self._service.import_annotations(
            current_caller(), _options(first), file_chunks(first, request_iterator)
        )
        return _response(report)


def _options(first: Request) -> AnnotationImportOptions:
    if not first.annotator_id:
        raise DomainError(
            ErrorCode.INVALID_REQUEST, "annotator_id is required", {"field": "annotator_id"}
        )
    return AnnotationImportOptions(
        project_id=first.project_id,
        format=import_format(first.format, _FORMATS, AnnotationImportFormat),
        dry_run=first.dry_run,
        annotator_id=first.annotator_id,
        model_version=first.model_version if first.HasField("model_version") else None,
        ground_truth=first.ground_truth,
    )


def _response(report: AnnotationImportReport) -> annotation_service_pb2.ImportAnnotationsResponse:
    return annotation_service_pb2.ImportAnnotationsResponse(
        imported=report.imported,
        predictions_imported=report.predictions_imported,
        skipped=report.skipped,
        errors=import_errors(report.errors),
        dry_run=report.dry_run,
        ground_truth_tasks=report.ground_truth_tasks,
    )
