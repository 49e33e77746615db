"""PredictionService over gRPC: a client stream in, one report out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import orjson
from annotation.v1 import common_pb2, prediction_service_pb2, prediction_service_pb2_grpc

from annotation_api.settings import Settings
from server.auth import current_caller
from server.predictions.service import (
    ImportFormat,
    ImportOptions,
    ImportReport,
    PredictionImportService,
)
from server.predictions.stats import get_prediction_stats
from server.servicers.uploads import file_chunks, first_message, import_errors, import_format
from storage.database import Database

Request: TypeAlias = prediction_service_pb2.ImportPredictionsRequest

_FORMATS = {
    common_pb2.IMPORT_FORMAT_UNSPECIFIED: ImportFormat.AAP_JSON,
    common_pb2.IMPORT_FORMAT_AAP_JSON: ImportFormat.AAP_JSON,
    common_pb2.IMPORT_FORMAT_COCO: ImportFormat.COCO,
}


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, settings: Settings, database: Database) -> None:
        self._service = PredictionImportService(settings, database)
        self._database = database

    async def GetPredictionStats(
        self, request: prediction_service_pb2.GetPredictionStatsRequest, context: Any
    ) -> prediction_service_pb2.GetPredictionStatsResponse:
        models = await get_prediction_stats(self._database, current_caller(), request.project_id)
        return prediction_service_pb2.GetPredictionStatsResponse(
            project_id=request.project_id,
            models=[
                prediction_service_pb2.ModelStats(
                    model_version=m.model_version,
                    predictions=m.predictions,
                    tasks_covered=m.tasks_covered,
                    annotations_from_prediction=m.annotations_from_prediction,
                    accepted_unchanged=m.accepted_unchanged,
                    modified=m.modified,
                    annotated_without_prediction_use=m.annotated_without_prediction_use,
                    median_lead_time_with_prelabel_seconds=m.median_lead_time_with_prelabel_seconds,
                    median_lead_time_without_prelabel_seconds=(
                        m.median_lead_time_without_prelabel_seconds
                    ),
                )
                for m in models
            ],
        )

    async def ImportPredictions(
        self, request_iterator: AsyncIterator[Request], context: Any
    ) -> prediction_service_pb2.ImportPredictionsResponse:
        first = await first_message(request_iterator)
        report = await self._service.import_predictions(
            current_caller(), _options(first), file_chunks(first, request_iterator)
        )
        return _response(report)


def _options(first: Request) -> ImportOptions:
    return ImportOptions(
        project_id=first.project_id,
        format=import_format(first.format, _FORMATS, ImportFormat),
        dry_run=first.dry_run,
        model_version=first.model_version if first.HasField("model_version") else None,
        overwrite_existing=first.overwrite_existing,
    )


def _response(report: ImportReport) -> prediction_service_pb2.ImportPredictionsResponse:
    return prediction_service_pb2.ImportPredictionsResponse(
        imported=report.imported,
        skipped=report.skipped,
        errors=import_errors(report.errors),
        dry_run=report.dry_run,
        warnings=[
            prediction_service_pb2.ImportWarning(
                task_match=orjson.dumps(warning.task_match).decode(),
                message=warning.message,
                candidates=warning.candidates,
            )
            for warning in report.warnings
        ],
    )
