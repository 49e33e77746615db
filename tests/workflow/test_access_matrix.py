"""Every RPC x role x ownership, over gRPC and over REST (BOLA: OWASP API1).

One world per test: a project owned by `owner`, with tasks assigned to the
annotator `carol` (pending, in progress, completed with her annotation) and to
the annotator `dave`, and one unassigned task; `rita` is its reviewer, `rick` a
reviewer of no project. Each case names the outcome per
caller: "ok", or the error_code. Calls that would change the world when allowed
are chosen so that, once access is granted, they fail on a state rule
(INVALID_STATE) or change nothing, so the cases do not depend on their order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import orjson
import pytest
from annotation.v1 import common_pb2, prediction_service_pb2, project_service_pb2
from annotation.v1 import quality_service_pb2 as Q
from annotation.v1 import review_service_pb2 as R
from annotation.v1 import webhook_service_pb2 as WH
from annotation.v1 import workflow_service_pb2 as W
from annotation.v1.prediction_service_pb2_grpc import PredictionServiceStub
from annotation.v1.project_service_pb2_grpc import ProjectServiceStub
from annotation.v1.quality_service_pb2_grpc import QualityServiceStub
from annotation.v1.review_service_pb2_grpc import ReviewServiceStub
from annotation.v1.webhook_service_pb2_grpc import WebhookServiceStub
from annotation.v1.workflow_service_pb2_grpc import WorkflowServiceStub

from storage.database import Database
from tests.helpers import TestUser, rpc_error
from tests.workflow.support import make_user

CALLERS = ("owner", "other_admin", "super_admin", "carol", "dave", "rita", "rick")
OK = "ok"
PD = "PERMISSION_DENIED"
PNF = "PROJECT_NOT_FOUND"
TNF = "TASK_NOT_FOUND"
ANF = "ANNOTATION_NOT_FOUND"
WNF = "WEBHOOK_NOT_FOUND"
HOOK_URL = "https://hooks.example.com/annotation"
STATE = "INVALID_STATE"
NTA = "NO_TASK_AVAILABLE"
RESULT = orjson.dumps([{"type": "choices", "value": {"choices": ["a"]}}]).decode()


@dataclass
class World:
    users: dict[str, TestUser]
    project_id: str
    carol_pending: str
    carol_started: str
    carol_done: str
    carol_annotation: str
    dave_pending: str
    free: str
    webhook_id: str


@dataclass(frozen=True)
class Case:
    name: str
    grpc: Callable[[Any, World], Any]  # (stubs, world) -> (method, request)
    rest: Callable[[World], tuple[str, str, dict[str, Any]]]  # -> (method, path, kwargs)
    expected: dict[str, str]


def by_role(
    admins: str,
    annotators: str,
    *,
    other_admin: str | None = None,
    rita: str = PD,
    rick: str | None = None,
) -> dict[str, str]:
    """rita reviews the project, rick reviews none (both PERMISSION_DENIED by default)."""
    return {
        "owner": admins,
        "other_admin": other_admin or admins,
        "super_admin": admins,
        "carol": annotators,
        "dave": annotators,
        "rita": rita,
        "rick": rick or rita,
    }


def webhook_case(owner: str = OK) -> dict[str, str]:
    """A webhook is its creator's alone: WEBHOOK_NOT_FOUND to every other admin."""
    return by_role(owner, PD) | {"other_admin": WNF, "super_admin": WNF}


def task_case(
    owner_ok: str, carol: str, dave: str, other: str = TNF, rita: str = PD, rick: str = PD
) -> dict[str, str]:
    return {
        "owner": owner_ok,
        "other_admin": other,
        "super_admin": owner_ok,
        "carol": carol,
        "dave": dave,
        "rita": rita,
        "rick": rick,
    }


CASES = [
    Case(
        "ListProjects",
        lambda s, w: (s.project.ListProjects, project_service_pb2.ListProjectsRequest()),
        lambda w: ("GET", "/api/external/projects", {}),
        by_role(OK, PD),
    ),
    Case(
        "ListUsers",
        lambda s, w: (s.workflow.ListUsers, W.ListUsersRequest()),
        lambda w: ("GET", "/api/v1/users", {}),
        by_role(OK, PD),
    ),
    Case(
        "GetCurrentUser",
        lambda s, w: (s.workflow.GetCurrentUser, W.GetCurrentUserRequest()),
        lambda w: ("GET", "/api/v1/me", {}),
        by_role(OK, OK, rita=OK),
    ),
    Case(
        "GetProgress",
        lambda s, w: (
            s.project.GetProgress,
            project_service_pb2.GetProgressRequest(project_id=w.project_id),
        ),
        lambda w: ("GET", f"/api/external/projects/{w.project_id}/progress", {}),
        by_role(OK, PD, other_admin=PNF),
    ),
    Case(
        "ListTasks",
        lambda s, w: (
            s.project.ListTasks,
            project_service_pb2.ListTasksRequest(project_id=w.project_id),
        ),
        lambda w: ("GET", f"/api/external/projects/{w.project_id}/tasks", {}),
        by_role(OK, PD, other_admin=PNF),
    ),
    Case(
        "ConfigureProject",
        lambda s, w: (
            s.workflow.ConfigureProject,
            W.ConfigureProjectRequest(project_id=w.project_id, ready=True),
        ),
        lambda w: ("POST", f"/api/v1/projects/{w.project_id}/configure", {"json": {"ready": True}}),
        by_role(STATE, PD, other_admin=PNF),
    ),
    Case(
        "AssignTasks",
        lambda s, w: (
            s.workflow.AssignTasks,
            W.AssignTasksRequest(
                project_id=w.project_id,
                annotator_id=w.users["carol"].user_id,
                task_ids=[w.carol_pending],
            ),
        ),
        lambda w: (
            "POST",
            f"/api/v1/projects/{w.project_id}/assignments",
            {"json": {"annotator_id": w.users["carol"].user_id, "task_ids": [w.carol_pending]}},
        ),
        by_role(STATE, PD, other_admin=PNF),
    ),
    Case(
        "UnassignTasks",
        lambda s, w: (
            s.workflow.UnassignTasks,
            W.UnassignTasksRequest(project_id=w.project_id, task_ids=[w.free]),
        ),
        lambda w: (
            "DELETE",
            f"/api/v1/projects/{w.project_id}/assignments",
            {"params": {"task_ids": w.free}},
        ),
        by_role(OK, PD, other_admin=PNF),
    ),
    Case(
        "GetPredictionStats",
        lambda s, w: (
            s.prediction.GetPredictionStats,
            prediction_service_pb2.GetPredictionStatsRequest(project_id=w.project_id),
        ),
        lambda w: ("GET", f"/api/external/projects/{w.project_id}/predictions/stats", {}),
        by_role(OK, PD, other_admin=PNF),
    ),
    Case(
        "GetTask",
        lambda s, w: (s.workflow.GetTask, W.GetTaskRequest(task_id=w.carol_pending)),
        lambda w: ("GET", f"/api/v1/tasks/{w.carol_pending}", {}),
        task_case(OK, OK, TNF, rita=OK, rick=TNF),
    ),
    Case(
        "GetTask (unassigned)",
        lambda s, w: (s.workflow.GetTask, W.GetTaskRequest(task_id=w.free)),
        lambda w: ("GET", f"/api/v1/tasks/{w.free}", {}),
        task_case(OK, TNF, TNF, rita=OK, rick=TNF),
    ),
    Case(
        "StartTask",
        lambda s, w: (s.workflow.StartTask, W.StartTaskRequest(task_id=w.carol_started)),
        lambda w: ("POST", f"/api/v1/tasks/{w.carol_started}/start", {"json": {}}),
        task_case(STATE, STATE, TNF),
    ),
    Case(
        "StartTask (completed)",
        lambda s, w: (s.workflow.StartTask, W.StartTaskRequest(task_id=w.carol_done)),
        lambda w: ("POST", f"/api/v1/tasks/{w.carol_done}/start", {"json": {}}),
        task_case(STATE, STATE, TNF),
    ),
    Case(
        "ReopenTask",
        lambda s, w: (s.workflow.ReopenTask, W.ReopenTaskRequest(task_id=w.carol_started)),
        lambda w: ("POST", f"/api/v1/tasks/{w.carol_started}/reopen", {"json": {}}),
        task_case(STATE, STATE, TNF),
    ),
    Case(
        "SubmitAnnotation",
        lambda s, w: (
            s.workflow.SubmitAnnotation,
            W.SubmitAnnotationRequest(task_id=w.carol_pending, result=RESULT),
        ),
        lambda w: (
            "POST",
            f"/api/v1/tasks/{w.carol_pending}/annotations",
            {"json": {"result": orjson.loads(RESULT)}},
        ),
        task_case(STATE, STATE, TNF),
    ),
    Case(
        "SkipTask",
        lambda s, w: (s.workflow.SkipTask, W.SkipTaskRequest(task_id=w.carol_done, reason="x")),
        lambda w: ("POST", f"/api/v1/tasks/{w.carol_done}/skip", {"json": {"reason": "x"}}),
        task_case(STATE, STATE, TNF),
    ),
    Case(
        "UpdateAnnotation",
        lambda s, w: (
            s.workflow.UpdateAnnotation,
            W.UpdateAnnotationRequest(annotation_id=w.carol_annotation, result=RESULT),
        ),
        lambda w: (
            "PATCH",
            f"/api/v1/annotations/{w.carol_annotation}",
            {"json": {"result": orjson.loads(RESULT)}},
        ),
        task_case(OK, OK, ANF, other=ANF),
    ),
    Case(
        "ListAssignedTasks (own)",
        lambda s, w: (s.workflow.ListAssignedTasks, W.ListAssignedTasksRequest()),
        lambda w: ("GET", "/api/v1/me/tasks", {}),
        by_role(OK, OK),
    ),
    Case(
        "ListAssignedTasks (carol's)",
        lambda s, w: (
            s.workflow.ListAssignedTasks,
            W.ListAssignedTasksRequest(
                annotator_id=w.users["carol"].user_id, project_id=w.project_id
            ),
        ),
        lambda w: (
            "GET",
            "/api/v1/me/tasks",
            {"params": {"annotator_id": w.users["carol"].user_id, "project_id": w.project_id}},
        ),
        task_case(OK, OK, PD, other=PNF),
    ),
    Case(
        "NextTask",
        lambda s, w: (s.workflow.NextTask, W.NextTaskRequest()),
        lambda w: ("POST", "/api/v1/me/next-task", {"json": {}}),
        by_role("NO_TASK_AVAILABLE", OK),
    ),
    Case(
        "NextReview",
        lambda s, w: (s.review.NextReview, R.NextReviewRequest()),
        lambda w: ("POST", "/api/v1/me/next-review", {"json": {}}),
        by_role(NTA, PD, rita=NTA),
    ),
    Case(
        "NextReview (project)",
        lambda s, w: (s.review.NextReview, R.NextReviewRequest(project_id=w.project_id)),
        lambda w: ("POST", "/api/v1/me/next-review", {"json": {"project_id": w.project_id}}),
        by_role(NTA, PD, other_admin=PNF, rita=NTA, rick=PNF),
    ),
    Case(
        "ReviewAnnotation",
        # carol's answer is not under review (review is off): allowed callers meet the rule
        lambda s, w: (
            s.review.ReviewAnnotation,
            R.ReviewAnnotationRequest(
                annotation_id=w.carol_annotation, verdict=common_pb2.REVIEW_VERDICT_ACCEPT
            ),
        ),
        lambda w: (
            "POST",
            f"/api/v1/annotations/{w.carol_annotation}/review",
            {"json": {"verdict": "accept"}},
        ),
        by_role(STATE, PD, other_admin=ANF, rita=STATE, rick=ANF),
    ),
    Case(
        "GetAgreement",
        lambda s, w: (s.quality.GetAgreement, Q.GetAgreementRequest(project_id=w.project_id)),
        lambda w: ("GET", f"/api/v1/projects/{w.project_id}/agreement", {}),
        by_role(OK, PD, other_admin=PNF, rita=OK, rick=PNF),
    ),
    Case(
        "GetQualityReport",
        lambda s, w: (
            s.quality.GetQualityReport,
            Q.GetQualityReportRequest(project_id=w.project_id),
        ),
        lambda w: ("GET", f"/api/v1/projects/{w.project_id}/quality", {}),
        by_role(OK, PD, other_admin=PNF, rita=OK, rick=PNF),
    ),
    Case(
        "GetTaskAgreement",
        lambda s, w: (s.quality.GetTaskAgreement, Q.GetTaskAgreementRequest(task_id=w.carol_done)),
        lambda w: ("GET", f"/api/v1/tasks/{w.carol_done}/agreement", {}),
        task_case(OK, PD, PD, rita=OK, rick=TNF),
    ),
    Case(
        "SetGroundTruth",
        # unmarking a task that is not ground truth: no change
        lambda s, w: (
            s.quality.SetGroundTruth,
            Q.SetGroundTruthRequest(project_id=w.project_id, task_ids=[w.free], ground_truth=False),
        ),
        lambda w: (
            "POST",
            f"/api/v1/projects/{w.project_id}/ground-truth",
            {"json": {"task_ids": [w.free], "ground_truth": False}},
        ),
        by_role(OK, PD, other_admin=PNF),
    ),
    Case(
        "ListProjectReviewers",
        lambda s, w: (
            s.review.ListProjectReviewers,
            R.ListProjectReviewersRequest(project_id=w.project_id),
        ),
        lambda w: ("GET", f"/api/v1/projects/{w.project_id}/reviewers", {}),
        by_role(OK, PD, other_admin=PNF),
    ),
    Case(
        "AddProjectReviewers",
        # rita is a reviewer already: no change
        lambda s, w: (
            s.review.AddProjectReviewers,
            R.AddProjectReviewersRequest(
                project_id=w.project_id, user_ids=[w.users["rita"].user_id]
            ),
        ),
        lambda w: (
            "POST",
            f"/api/v1/projects/{w.project_id}/reviewers",
            {"json": {"user_ids": [w.users["rita"].user_id]}},
        ),
        by_role(OK, PD, other_admin=PNF),
    ),
    Case(
        "RemoveProjectReviewers",
        # rick reviews nothing: no change
        lambda s, w: (
            s.review.RemoveProjectReviewers,
            R.RemoveProjectReviewersRequest(
                project_id=w.project_id, user_ids=[w.users["rick"].user_id]
            ),
        ),
        lambda w: (
            "DELETE",
            f"/api/v1/projects/{w.project_id}/reviewers",
            {"params": {"user_ids": w.users["rick"].user_id}},
        ),
        by_role(OK, PD, other_admin=PNF),
    ),
    Case(
        "InitProject",
        lambda s, w: (
            s.project.InitProject,
            project_service_pb2.InitProjectRequest(
                name="x",
                task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
                data=[project_service_pb2.TaskInput(content="t")],
            ),
        ),
        lambda w: (
            "POST",
            "/api/external/projects/init",
            {"json": {"name": "x", "task_type": "text_classification", "data": [{"content": "t"}]}},
        ),
        by_role(OK, PD),
    ),
    Case(
        "CreateExport",
        lambda s, w: (None, None),
        lambda w: ("POST", f"/api/external/projects/{w.project_id}/export", {"json": {}}),
        by_role(OK, PD, other_admin=PNF),
    ),
    Case(
        "CreateWebhook",
        lambda s, w: (
            s.webhook.CreateWebhook,
            WH.CreateWebhookRequest(project_id=w.project_id, url=HOOK_URL),
        ),
        lambda w: (
            "POST",
            "/api/v1/webhooks",
            {"json": {"project_id": w.project_id, "url": HOOK_URL}},
        ),
        by_role(OK, PD, other_admin=PNF),
    ),
    Case(
        "CreateWebhook (all projects)",
        lambda s, w: (s.webhook.CreateWebhook, WH.CreateWebhookRequest(url=HOOK_URL)),
        lambda w: ("POST", "/api/v1/webhooks", {"json": {"url": HOOK_URL}}),
        by_role(OK, PD),
    ),
    Case(
        "ListWebhooks",
        lambda s, w: (s.webhook.ListWebhooks, WH.ListWebhooksRequest()),
        lambda w: ("GET", "/api/v1/webhooks", {}),
        by_role(OK, PD),
    ),
    Case(
        "ListWebhooks (project)",
        lambda s, w: (s.webhook.ListWebhooks, WH.ListWebhooksRequest(project_id=w.project_id)),
        lambda w: ("GET", "/api/v1/webhooks", {"params": {"project_id": w.project_id}}),
        by_role(OK, PD, other_admin=PNF),
    ),
    Case(
        "GetWebhook",
        lambda s, w: (s.webhook.GetWebhook, WH.GetWebhookRequest(webhook_id=w.webhook_id)),
        lambda w: ("GET", f"/api/v1/webhooks/{w.webhook_id}", {}),
        webhook_case(),
    ),
    Case(
        "UpdateWebhook",
        lambda s, w: (
            s.webhook.UpdateWebhook,
            WH.UpdateWebhookRequest(webhook_id=w.webhook_id, is_active=True),
        ),
        lambda w: ("PATCH", f"/api/v1/webhooks/{w.webhook_id}", {"json": {"is_active": True}}),
        webhook_case(),
    ),
    Case(
        "ListWebhookDeliveries",
        lambda s, w: (
            s.webhook.ListWebhookDeliveries,
            WH.ListWebhookDeliveriesRequest(webhook_id=w.webhook_id),
        ),
        lambda w: ("GET", f"/api/v1/webhooks/{w.webhook_id}/deliveries", {}),
        webhook_case(),
    ),
    Case(  # last: it removes the world's webhook
        "DeleteWebhook",
        lambda s, w: (s.webhook.DeleteWebhook, WH.DeleteWebhookRequest(webhook_id=w.webhook_id)),
        lambda w: ("DELETE", f"/api/v1/webhooks/{w.webhook_id}", {}),
        webhook_case(),
    ),
]


@dataclass
class Stubs:
    project: ProjectServiceStub
    workflow: WorkflowServiceStub
    prediction: PredictionServiceStub
    review: ReviewServiceStub
    webhook: WebhookServiceStub
    quality: QualityServiceStub


@pytest.fixture
async def world(
    database: Database,
    admin: TestUser,
    other_admin: TestUser,
    super_admin: TestUser,
    annotator: TestUser,
    channel: grpc.aio.Channel,
) -> World:
    dave = await make_user(database, "dave", "annotator")
    users = {
        "owner": admin,
        "other_admin": other_admin,
        "super_admin": super_admin,
        "carol": annotator,
        "dave": dave,
        "rita": await make_user(database, "rita", "reviewer"),
        "rick": await make_user(database, "rick", "reviewer"),
    }
    project = ProjectServiceStub(channel)
    workflow = WorkflowServiceStub(channel)
    md = admin.metadata
    created = await project.InitProject(
        project_service_pb2.InitProjectRequest(
            name="p",
            task_type=common_pb2.TASK_TYPE_TEXT_CLASSIFICATION,
            data=[project_service_pb2.TaskInput(content=f"t{i}") for i in range(5)],
            tags=[common_pb2.TagInput(tag="a")],
        ),
        metadata=md,
    )
    pid = created.project_id
    ids = [
        t.task_id
        for t in (
            await project.ListTasks(
                project_service_pb2.ListTasksRequest(project_id=pid), metadata=md
            )
        ).tasks
    ]
    await workflow.ConfigureProject(
        W.ConfigureProjectRequest(project_id=pid, ready=True), metadata=md
    )
    await workflow.AssignTasks(
        W.AssignTasksRequest(project_id=pid, annotator_id=annotator.user_id, task_ids=ids[:3]),
        metadata=md,
    )
    await workflow.AssignTasks(
        W.AssignTasksRequest(project_id=pid, annotator_id=dave.user_id, task_ids=[ids[3]]),
        metadata=md,
    )
    await ReviewServiceStub(channel).AddProjectReviewers(
        R.AddProjectReviewersRequest(project_id=pid, user_ids=[users["rita"].user_id]),
        metadata=md,
    )
    carol = annotator.metadata
    await workflow.StartTask(W.StartTaskRequest(task_id=ids[1]), metadata=carol)
    await workflow.StartTask(W.StartTaskRequest(task_id=ids[2]), metadata=carol)
    submitted = await workflow.SubmitAnnotation(
        W.SubmitAnnotationRequest(task_id=ids[2], result=RESULT), metadata=carol
    )
    hook = await WebhookServiceStub(channel).CreateWebhook(
        WH.CreateWebhookRequest(project_id=pid, url=HOOK_URL), metadata=md
    )
    return World(
        users=users,
        project_id=pid,
        carol_pending=ids[0],
        carol_started=ids[1],
        carol_done=ids[2],
        carol_annotation=submitted.annotation_id,
        dave_pending=ids[3],
        free=ids[4],
        webhook_id=hook.webhook.webhook_id,
    )


async def grpc_outcome(stubs: Stubs, world: World, case: Case, user: TestUser) -> str | None:
    method, request = case.grpc(stubs, world)
    if method is None:
        return None  # covered over REST only
    try:
        await method(request, metadata=user.metadata)
    except grpc.aio.AioRpcError as exc:
        error = rpc_error(exc)
        assert error.error_code is not None
        return error.error_code
    return OK


async def rest_outcome(client: httpx.AsyncClient, world: World, case: Case, user: TestUser) -> str:
    method, path, kwargs = case.rest(world)
    response = await client.request(
        method, path, headers={"Authorization": f"Bearer {user.token}"}, **kwargs
    )
    if response.status_code == 200:
        return OK
    body = response.json()
    assert set(body) == {"error_code", "message", "details"}
    return str(body["error_code"])


@pytest.mark.parametrize("caller", CALLERS)
async def test_every_rpc_by_role_and_ownership_over_grpc(
    world: World, channel: grpc.aio.Channel, caller: str
) -> None:
    stubs = Stubs(
        ProjectServiceStub(channel),
        WorkflowServiceStub(channel),
        PredictionServiceStub(channel),
        ReviewServiceStub(channel),
        WebhookServiceStub(channel),
        QualityServiceStub(channel),
    )
    outcomes = {
        case.name: await grpc_outcome(stubs, world, case, world.users[caller]) for case in CASES
    }
    expected = {case.name: case.expected[caller] for case in CASES if case.grpc(stubs, world)[0]}
    assert {name: outcome for name, outcome in outcomes.items() if outcome is not None} == expected


@pytest.mark.parametrize("caller", CALLERS)
async def test_every_route_by_role_and_ownership_over_rest(
    world: World, http_client: httpx.AsyncClient, caller: str
) -> None:
    outcomes = {
        case.name: await rest_outcome(http_client, world, case, world.users[caller])
        for case in CASES
    }
    assert outcomes == {case.name: case.expected[caller] for case in CASES}


async def test_another_annotators_task_reveals_nothing(
    world: World, http_client: httpx.AsyncClient
) -> None:
    dave = world.users["dave"]
    response = await http_client.get(
        f"/api/v1/tasks/{world.carol_pending}", headers={"Authorization": f"Bearer {dave.token}"}
    )
    assert response.status_code == 404
    assert response.json() == {
        "error_code": "TASK_NOT_FOUND",
        "message": "task not found",
        "details": {"task_id": world.carol_pending},
    }
