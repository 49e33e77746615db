"""Who may call what, and on which project, export, task or annotation (SPEC §3).

This module is the one place access is decided; every service asks it.

Roles, per RPC (`check_method`, called by the interceptor for every RPC):

* `admin` and `super_admin` may call every RPC; the services then limit them to
  the projects they may see.
* `annotator` may call only ANNOTATOR_METHODS (who they are, their own queue
  and the tasks assigned to them); anything else is PERMISSION_DENIED.
* `reviewer` may call only REVIEWER_METHODS (who they are, the review queue and
  verdicts, the tasks and quality reads of the projects they are a reviewer of);
  anything else is PERMISSION_DENIED.

Ownership, per resource:

* A project is visible to its owner and to every super_admin. To anyone else it
  does not exist: PROJECT_NOT_FOUND, exactly as for an unknown id, so one tenant
  never learns about another's projects. An export follows its project
  (EXPORT_NOT_FOUND).
* A project is reviewed by the admins who see it and by its reviewers
  (AddProjectReviewers); to any other reviewer it is PROJECT_NOT_FOUND.
* A task is visible to the admins who see its project, to the annotator it
  is assigned to and to its project's reviewers. To anyone else it is
  TASK_NOT_FOUND, never its content.
* An annotation may be changed by its author (while the task is assigned to
  them) and by the admins who see its project, and reviewed by those who review
  its project (never by its author); to anyone else it is ANNOTATION_NOT_FOUND.
* A webhook is visible to the administrator who registered it only; to anyone
  else (another admin, a super_admin) it is WEBHOOK_NOT_FOUND. It may name a
  project only that administrator sees.

Each error code has one message, written here.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from annotation_api.errors import DomainError, ErrorCode
from server.auth import Authenticator, Caller, Role
from storage.projects import ProjectRecord, get_project

ADMIN_ROLES = frozenset({Role.SUPER_ADMIN, Role.ADMIN})

_WORKFLOW = "/annotation.v1.WorkflowService/"
# The RPCs an annotator may call, each on their own work only (checked by the service).
ANNOTATOR_METHODS = frozenset(
    _WORKFLOW + name
    for name in (
        "GetCurrentUser",
        "GetTask",
        "ListAssignedTasks",
        "WatchAssignedTasks",
        "NextTask",
        "StartTask",
        "ReopenTask",
        "SubmitAnnotation",
        "UpdateAnnotation",
        "SkipTask",
    )
)

_REVIEW = "/annotation.v1.ReviewService/"
_QUALITY = "/annotation.v1.QualityService/"
# The RPCs a reviewer may call, each on the projects they review (checked by the service).
REVIEWER_METHODS = frozenset(
    {
        _WORKFLOW + "GetCurrentUser",
        _WORKFLOW + "GetTask",
        _REVIEW + "NextReview",
        _REVIEW + "ReviewAnnotation",
        _QUALITY + "GetAgreement",
        _QUALITY + "GetTaskAgreement",
        _QUALITY + "GetQualityReport",
    }
)
METHODS_BY_ROLE: Mapping[str, frozenset[str]] = {
    Role.ANNOTATOR: ANNOTATOR_METHODS,
    Role.REVIEWER: REVIEWER_METHODS,
}


def is_admin(caller: Caller) -> bool:
    return caller.role in ADMIN_ROLES


def permission_denied(caller: Caller) -> DomainError:
    return DomainError(
        ErrorCode.PERMISSION_DENIED,
        "administrator rights required",
        {"role": caller.role, "required": sorted(ADMIN_ROLES)},
    )


def check_method(caller: Caller, method: str) -> None:
    """PERMISSION_DENIED unless the caller's role may call method (/package.Service/Method)."""
    if is_admin(caller):
        return
    if method in METHODS_BY_ROLE.get(caller.role, frozenset()):
        return
    raise permission_denied(caller)


async def authorize(authenticator: Authenticator, token: str | None, method: str) -> Caller:
    """The caller holding token, if they may call `method` (/package.Service/Method).

    The one decision both the interceptor (for the RPC being called) and
    AccessService.CheckAccess (for the RPC a caller means to call) make.
    """
    caller = await authenticator.authenticate(token)
    check_method(caller, method)
    return caller


def require_admin(caller: Caller) -> None:
    """PERMISSION_DENIED unless the caller is an admin or super_admin."""
    if not is_admin(caller):
        raise permission_denied(caller)


def project_not_found(project_id: str) -> DomainError:
    return DomainError(ErrorCode.PROJECT_NOT_FOUND, "project not found", {"project_id": project_id})


def export_not_found(export_id: str) -> DomainError:
    return DomainError(ErrorCode.EXPORT_NOT_FOUND, "export not found", {"export_id": export_id})


def task_not_found(task_id: str) -> DomainError:
    return DomainError(ErrorCode.TASK_NOT_FOUND, "task not found", {"task_id": task_id})


def annotation_not_found(annotation_id: str) -> DomainError:
    return DomainError(
        ErrorCode.ANNOTATION_NOT_FOUND, "annotation not found", {"annotation_id": annotation_id}
    )


def webhook_not_found(webhook_id: str) -> DomainError:
    return DomainError(ErrorCode.WEBHOOK_NOT_FOUND, "webhook not found", {"webhook_id": webhook_id})


def check_webhook(caller: Caller, webhook_id: str, owner_id: str | None) -> None:
    """WEBHOOK_NOT_FOUND unless the webhook exists (owner_id given) and the caller made it."""
    if owner_id is None or not is_admin(caller) or owner_id != caller.user_id:
        raise webhook_not_found(webhook_id)


def can_see_project(caller: Caller, owner_id: str) -> bool:
    """True when the caller may see a project owned by owner_id."""
    return caller.is_super_admin or (caller.role == Role.ADMIN and owner_id == caller.user_id)


def check_project(caller: Caller, project_id: str, owner_id: str | None) -> None:
    """PROJECT_NOT_FOUND unless the project exists (owner_id given) and the caller sees it."""
    if owner_id is None or not can_see_project(caller, owner_id):
        raise project_not_found(project_id)


def check_export(caller: Caller, export_id: str, project_owner_id: str | None) -> None:
    """EXPORT_NOT_FOUND unless the export exists and the caller sees its project."""
    if project_owner_id is None or not can_see_project(caller, project_owner_id):
        raise export_not_found(export_id)


def can_review_project(caller: Caller, owner_id: str, *, is_reviewer: bool) -> bool:
    """True for the admins who see the project and for its reviewers (is_reviewer: the
    caller is one, AddProjectReviewers)."""
    if is_admin(caller):
        return can_see_project(caller, owner_id)
    return caller.role == Role.REVIEWER and is_reviewer


def check_review_project(
    caller: Caller, project_id: str, owner_id: str | None, *, is_reviewer: bool
) -> None:
    """PROJECT_NOT_FOUND unless the project exists and the caller reviews it."""
    if owner_id is None or not can_review_project(caller, owner_id, is_reviewer=is_reviewer):
        raise project_not_found(project_id)


def can_work_on_task(
    caller: Caller, *, project_owner_id: str, assignee_id: str | None, is_reviewer: bool = False
) -> bool:
    """True for the admins who see the task's project, for the task's assignee and for
    the project's reviewers (is_reviewer: the caller is one)."""
    if is_admin(caller):
        return can_see_project(caller, project_owner_id)
    if caller.role == Role.REVIEWER:
        return is_reviewer
    return assignee_id is not None and assignee_id == caller.user_id


def check_task(
    caller: Caller,
    task_id: str,
    *,
    project_owner_id: str | None,
    assignee_id: str | None,
    is_reviewer: bool = False,
) -> None:
    """TASK_NOT_FOUND unless the task exists and the caller may work on it."""
    if project_owner_id is None or not can_work_on_task(
        caller,
        project_owner_id=project_owner_id,
        assignee_id=assignee_id,
        is_reviewer=is_reviewer,
    ):
        raise task_not_found(task_id)


def check_annotation(
    caller: Caller,
    annotation_id: str,
    *,
    project_owner_id: str | None,
    author_id: str | None,
    assignee_id: str | None,
) -> None:
    """ANNOTATION_NOT_FOUND unless the caller is a seeing admin, or the author holding the task."""
    if project_owner_id is None or author_id is None:
        raise annotation_not_found(annotation_id)
    if is_admin(caller):
        allowed = can_see_project(caller, project_owner_id)
    else:
        allowed = (
            caller.role == Role.ANNOTATOR
            and author_id == caller.user_id
            and assignee_id == caller.user_id
        )
    if not allowed:
        raise annotation_not_found(annotation_id)


def check_reviewable(
    caller: Caller,
    annotation_id: str,
    *,
    project_owner_id: str | None,
    author_id: str | None,
    is_reviewer: bool,
) -> None:
    """ANNOTATION_NOT_FOUND unless the caller reviews the annotation's project;
    PERMISSION_DENIED for its author (nobody reviews their own answer)."""
    if project_owner_id is None or author_id is None:
        raise annotation_not_found(annotation_id)
    if not can_review_project(caller, project_owner_id, is_reviewer=is_reviewer):
        raise annotation_not_found(annotation_id)
    if author_id == caller.user_id:
        raise DomainError(
            ErrorCode.PERMISSION_DENIED,
            "an annotation is reviewed by someone other than its author",
            {"annotation_id": annotation_id},
        )


async def get_visible_project(
    conn: AsyncConnection, caller: Caller, project_id: str, *, for_update: bool = False
) -> ProjectRecord:
    """The project if the caller may see it; PROJECT_NOT_FOUND otherwise.

    for_update locks the project's row for the rest of the transaction (use it
    in write transactions that change the project's status or counters).
    """
    project = await get_project(conn, project_id, for_update=for_update) if project_id else None
    check_project(caller, project_id, project.owner_id if project else None)
    assert project is not None
    return project
