"""ReviewService over gRPC (and REST through the gateway): parse, call, map."""

from __future__ import annotations

from typing import Any

from annotation.v1 import common_pb2, review_service_pb2_grpc
from annotation.v1 import review_service_pb2 as pb
from annotation.v1 import workflow_service_pb2 as workflow_pb

from annotation_api.enum_names import enum_to_name, name_to_enum
from annotation_api.settings import Settings
from server.auth import current_caller
from server.review import reviewers, verdicts
from server.servicers.workflow import PROJECT_STATUS, TASK_STATUS, task_detail
from server.vocabulary import ReviewVerdict
from storage.database import Database

REVIEW_STATUS = common_pb2.ReviewStatus.DESCRIPTOR
REVIEW_VERDICT = common_pb2.ReviewVerdict.DESCRIPTOR


def _users(found: reviewers.Reviewers) -> list[workflow_pb.UserRef]:
    return [workflow_pb.UserRef(user_id=u, username=name) for u, name in found.reviewers]


class ReviewServicer(review_service_pb2_grpc.ReviewServiceServicer):
    def __init__(self, settings: Settings, database: Database) -> None:
        self._database = database

    async def NextReview(
        self, request: pb.NextReviewRequest, context: Any
    ) -> pb.NextReviewResponse:
        found = await verdicts.next_review(
            self._database, current_caller(), project_id=request.project_id or None
        )
        return pb.NextReviewResponse(
            annotation_id=str(found.annotation_id), task=task_detail(found.task)
        )

    async def ReviewAnnotation(
        self, request: pb.ReviewAnnotationRequest, context: Any
    ) -> pb.ReviewAnnotationResponse:
        verdict = enum_to_name(REVIEW_VERDICT, request.verdict)
        given = verdict in set(ReviewVerdict)
        done = await verdicts.review_annotation(
            self._database,
            current_caller(),
            request.annotation_id,
            verdict=ReviewVerdict(verdict) if given else None,
            comment=request.comment,
            corrected_result=(
                request.corrected_result if request.HasField("corrected_result") else None
            ),
            lead_time_seconds=(
                request.lead_time_seconds if request.HasField("lead_time_seconds") else None
            ),
        )
        return pb.ReviewAnnotationResponse(
            annotation_id=str(done.annotation_id),
            review_status=name_to_enum(REVIEW_STATUS, done.review_status),
            correction_annotation_id=(
                str(done.correction_annotation_id)
                if done.correction_annotation_id is not None
                else None
            ),
            task_id=str(done.task_id),
            task_status=name_to_enum(TASK_STATUS, done.task_status),
            project_status=name_to_enum(PROJECT_STATUS, done.project_status),
        )

    async def AddProjectReviewers(
        self, request: pb.AddProjectReviewersRequest, context: Any
    ) -> pb.AddProjectReviewersResponse:
        found = await reviewers.add_project_reviewers(
            self._database, current_caller(), request.project_id, list(request.user_ids)
        )
        return pb.AddProjectReviewersResponse(project_id=found.project_id, reviewers=_users(found))

    async def RemoveProjectReviewers(
        self, request: pb.RemoveProjectReviewersRequest, context: Any
    ) -> pb.RemoveProjectReviewersResponse:
        found = await reviewers.remove_project_reviewers(
            self._database, current_caller(), request.project_id, list(request.user_ids)
        )
        return pb.RemoveProjectReviewersResponse(
            project_id=found.project_id, reviewers=_users(found)
        )

    async def ListProjectReviewers(
        self, request: pb.ListProjectReviewersRequest, context: Any
    ) -> pb.ListProjectReviewersResponse:
        found = await reviewers.list_project_reviewers(
            self._database, current_caller(), request.project_id
        )
        return pb.ListProjectReviewersResponse(project_id=found.project_id, reviewers=_users(found))
