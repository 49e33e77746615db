"""QualityService over gRPC (and REST through the gateway): parse, call, map."""

from __future__ import annotations

from typing import Any

from annotation.v1 import quality_service_pb2 as pb
from annotation.v1 import quality_service_pb2_grpc

from annotation_api.settings import Settings
from server.auth import current_caller
from server.quality import reports
from storage.database import Database


def _labels(labels: list[reports.LabelScore]) -> list[pb.LabelScore]:
    return [pb.LabelScore(label=s.label, score=s.score, count=s.count) for s in labels]


def _annotators(annotators: list[reports.AnnotatorScore]) -> list[pb.AnnotatorScore]:
    return [
        pb.AnnotatorScore(
            user_id=a.user_id,
            username=a.username,
            score=a.score,
            tasks=a.tasks,
            precision=a.precision,
            recall=a.recall,
            labels=_labels(a.labels),
            overlap_score=a.overlap,
        )
        for a in annotators
    ]


class QualityServicer(quality_service_pb2_grpc.QualityServiceServicer):
    def __init__(self, settings: Settings, database: Database) -> None:
        self._database = database

    async def GetAgreement(self, request: pb.GetAgreementRequest, context: Any) -> Any:
        report = await reports.get_agreement(self._database, current_caller(), request.project_id)
        return pb.GetAgreementResponse(
            project_id=report.project_id,
            agreement=report.score,
            krippendorff_alpha=report.krippendorff_alpha,
            tasks_scored=report.scored,
            iou_threshold=report.iou_threshold,
            annotators=_annotators(report.annotators),
            labels=_labels(report.labels),
            overlap_agreement=report.overlap,
        )

    async def GetTaskAgreement(self, request: pb.GetTaskAgreementRequest, context: Any) -> Any:
        task = await reports.get_task_agreement(self._database, current_caller(), request.task_id)
        return pb.GetTaskAgreementResponse(
            task_id=str(task.task_id),
            agreement=task.agreement,
            annotations=[
                pb.AnnotationScore(
                    annotation_id=str(a.annotation_id),
                    user_id=a.user_id,
                    username=a.username,
                    score=a.score,
                )
                for a in task.answers
            ],
        )

    async def GetQualityReport(self, request: pb.GetQualityReportRequest, context: Any) -> Any:
        report = await reports.get_quality_report(
            self._database, current_caller(), request.project_id
        )
        return pb.GetQualityReportResponse(
            project_id=report.project_id,
            ground_truth_tasks=report.ground_truth_tasks,
            accuracy=report.score,
            iou_threshold=report.iou_threshold,
            annotators=_annotators(report.annotators),
            labels=_labels(report.labels),
            overlap_accuracy=report.overlap,
            precision=report.precision,
            recall=report.recall,
        )

    async def SetGroundTruth(self, request: pb.SetGroundTruthRequest, context: Any) -> Any:
        change = await reports.set_ground_truth(
            self._database,
            current_caller(),
            request.project_id,
            list(request.task_ids),
            marked=request.ground_truth,
        )
        return pb.SetGroundTruthResponse(
            project_id=request.project_id,
            changed_count=change.changed_count,
            ground_truth_tasks=change.ground_truth_tasks,
        )
