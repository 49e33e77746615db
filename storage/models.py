"""The schema: one declarative class per table.

Queries use these tables through SQLAlchemy Core (fast bulk paths); the
classes exist so that Alembic can compare the schema with the database.
JSON values are stored as text produced by orjson, which is portable and
faster than per-dialect JSON types on the bulk paths.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import BigIntPK, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _count() -> Mapped[int]:
    """A counter column: 0 for rows written before it existed and by bulk inserts."""
    return mapped_column(Integer, default=0, server_default=text("0"))


def _flag() -> Mapped[bool]:
    return mapped_column(Boolean, default=False, server_default=false())


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # sha256 hex of the secret: the secret itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # first characters of the secret, so an operator can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    task_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    label_config: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # Counters kept in the transactions that change task statuses, so progress
    # never scans the project's tasks.
    total_tasks: Mapped[int] = mapped_column(Integer, default=0)
    completed_tasks: Mapped[int] = mapped_column(Integer, default=0)
    in_progress_tasks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # latest change to the project or any of its tasks, assignments, annotations.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the model version that pre-labels the tasks; NULL: the most recently imported.
    prelabel_model_version: Mapped[str | None] = mapped_column(String(255))
    # quality control (QualitySettings): off | all | sample, and the sampled share.
    review_mode: Mapped[str] = mapped_column(String(10), default="off", server_default="off")
    review_share: Mapped[float | None] = mapped_column(Float)
    # how many distinct annotators label each task.
    annotations_per_task: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    # the share of an annotator's served tasks that are ground-truth tasks.
    ground_truth_rate: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))
    iou_threshold: Mapped[float] = mapped_column(Float, default=0.5, server_default=text("0.5"))
    # review counters (annotations), kept by the lifecycle like the task counters.
    review_pending_count: Mapped[int] = _count()
    accepted_count: Mapped[int] = _count()
    rejected_count: Mapped[int] = _count()
    reviewed_count: Mapped[int] = _count()
    ground_truth_tasks: Mapped[int] = _count()


class Label(Base):
    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    color: Mapped[str] = mapped_column(String(7))


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_project_id_id", "project_id", "id"),
        Index("ix_tasks_project_id_status_id", "project_id", "status", "id"),
        Index("ix_tasks_project_id_external_id", "project_id", "external_id"),
        Index("ix_tasks_project_id_file_path", "project_id", "file_path"),
        Index("ix_tasks_project_id_is_ground_truth_id", "project_id", "is_ground_truth", "id"),
    )

    # The integer key doubles as task_id ("123") and display_id ("T-123"):
    # unique across projects and processes without any coordination.
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    file_path: Mapped[str | None] = mapped_column(Text)
    metadata_json: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the image's natural size as a front end loaded it (image tasks), for exports
    # whose metadata has none.
    image_width: Mapped[int | None] = mapped_column(Integer)
    image_height: Mapped[int | None] = mapped_column(Integer)
    # a ground-truth task: its ground-truth annotation is the known answer.
    is_ground_truth: Mapped[bool] = _flag()
    # mean pairwise agreement of its annotators' answers; NULL with fewer than two.
    agreement: Mapped[float | None] = mapped_column(Float)
    # submitted annotations counted towards annotations_per_task.
    annotation_count: Mapped[int] = _count()


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        # With overlap a task has up to annotations_per_task assignments, one per annotator.
        UniqueConstraint("task_id", "user_id"),
        Index("ix_assignments_project_id_user_id", "project_id", "user_id"),
        # An annotator's queue (NextTask, ListAssignedTasks) without scanning a project.
        Index("ix_assignments_user_id_status_task_id", "user_id", "status", "task_id"),
        Index(
            "ix_assignments_user_id_project_id_status_task_id",
            "user_id",
            "project_id",
            "status",
            "task_id",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # a ground-truth task served to check the annotator: moves no counter.
    is_ground_truth: Mapped[bool] = _flag()


class ProjectAnnotator(Base):
    """Per-annotator counters of a project, kept with the assignments."""

    __tablename__ = "project_annotators"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    assigned_count: Mapped[int] = mapped_column(Integer, default=0)
    completed_count: Mapped[int] = mapped_column(Integer, default=0)
    in_progress_count: Mapped[int] = mapped_column(Integer, default=0)
    review_pending_count: Mapped[int] = _count()
    accepted_count: Mapped[int] = _count()
    rejected_count: Mapped[int] = _count()


class Annotation(Base):
    __tablename__ = "annotations"
    __table_args__ = (
        Index("ix_annotations_task_id", "task_id"),
        Index("ix_annotations_project_id_task_id", "project_id", "task_id"),
        Index("ix_annotations_parent_prediction_id", "parent_prediction_id"),
        # the review queue: a project's annotations waiting for review, oldest first.
        Index("ix_annotations_project_id_review_status_id", "project_id", "review_status", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    result_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # when the result was last changed (UpdateAnnotation); created_at at first.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the prediction the result started from. No foreign key: a prediction replaced by a
    # later import (overwrite_existing) leaves the id as it was recorded.
    parent_prediction_id: Mapped[int | None] = mapped_column(BigInteger)
    lead_time_seconds: Mapped[float | None] = mapped_column(Float)
    # whether the result equals its parent's (server.workflow.prelabel), kept with every
    # change so that prediction stats are one aggregate query; NULL without a parent.
    matches_parent: Mapped[bool | None] = mapped_column(Boolean)
    # review: NULL (not under review) | pending | accepted | rejected.
    review_status: Mapped[str | None] = mapped_column(String(10))
    reviewer_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # a reviewer's correction names the annotation it corrected (which is kept).
    corrects_annotation_id: Mapped[int | None] = mapped_column(BigInteger)
    # the task's known answer (a ground-truth task).
    is_ground_truth: Mapped[bool] = _flag()
    # mean agreement with the task's other answers; score against the known answer.
    agreement: Mapped[float | None] = mapped_column(Float)
    ground_truth_score: Mapped[float | None] = mapped_column(Float)


class Prediction(Base):
    __tablename__ = "predictions"
    __table_args__ = (
        Index("ix_predictions_task_id_source", "task_id", "source"),
        Index("ix_predictions_project_id_task_id", "project_id", "task_id"),
        Index(
            "ix_predictions_project_id_model_version_task_id",
            "project_id",
            "model_version",
            "task_id",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20))
    model_version: Mapped[str | None] = mapped_column(String(255))
    score: Mapped[float | None] = mapped_column(Float)
    result_json: Mapped[str] = mapped_column(Text)
    ml_backend_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TaskSkip(Base):
    """A task an annotator handed back (SkipTask), with the reason given."""

    __tablename__ = "task_skips"
    __table_args__ = (Index("ix_task_skips_task_id_user_id", "task_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PredictionModelStats(Base):
    """Counters behind GetPredictionStats, one row per model version of a project.

    Rebuilt from the rows when predictions are imported; moved by one when an
    annotation is submitted or updated (in the transaction that writes it).
    """

    __tablename__ = "prediction_model_stats"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    # model_version, or "" for predictions without one (a key cannot be NULL).
    version_key: Mapped[str] = mapped_column(String(256), primary_key=True)
    model_version: Mapped[str | None] = mapped_column(String(255))
    predictions: Mapped[int] = mapped_column(Integer, default=0)
    tasks_covered: Mapped[int] = mapped_column(Integer, default=0)
    from_prediction: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    without_use: Mapped[int] = mapped_column(Integer, default=0)


class PredictionLeadTime(Base):
    """Lead times of a model version's annotations, counted per 0.1 s (for exact medians)."""

    __tablename__ = "prediction_lead_times"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    version_key: Mapped[str] = mapped_column(String(256), primary_key=True)
    # true: annotations started from this version's prediction; false: covered tasks' others.
    with_prelabel: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    tenths: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Export(Base):
    __tablename__ = "exports"
    __table_args__ = (
        Index("ix_exports_status_expires_at", "status", "expires_at"),
        Index("ix_exports_status_lease_expires_at", "status", "lease_expires_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    format: Mapped[str] = mapped_column(String(20))
    completed_only: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20))
    file_name: Mapped[str] = mapped_column(String(255))
    # where the file lies, relative to the export directory.
    storage_path: Mapped[str | None] = mapped_column(String(512))
    content_type: Mapped[str] = mapped_column(String(100))
    file_size: Mapped[int] = mapped_column(BigInteger, default=0)
    total_exported: Mapped[int] = mapped_column(Integer, default=0)
    error_message: Mapped[str | None] = mapped_column(Text)
    # JSON list of {task_id, display_id, message}: tasks written incompletely.
    warnings_json: Mapped[str | None] = mapped_column(Text)
    accepted_only: Mapped[bool] = _flag()
    ground_truth_only: Mapped[bool] = _flag()
    consensus: Mapped[bool] = _flag()
    callback_url: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the server process writing a running export, and until when its claim holds
    # unless renewed (its heartbeat); both NULL once the export has ended.
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CallbackDelivery(Base):
    """Outbox of export callbacks: written with the export, drained by a worker."""

    __tablename__ = "callback_deliveries"
    __table_args__ = (
        Index("ix_callback_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    export_id: Mapped[str] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), unique=True
    )
    url: Mapped[str] = mapped_column(Text)
    # the exact body that is signed and sent.
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # a worker holds the row until then; another may take it afterwards.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Webhook(Base):
    """A URL that receives a project's events (or the events of all its owner's projects)."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # NULL: every project its owner sees, now and later.
    project_id: Mapped[str | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    # the events it receives, as ",A,B,"; "" for all of them.
    events: Mapped[str] = mapped_column(Text)
    # JSON object of extra request headers.
    headers_json: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # failed attempts since the last delivered one; the webhook is disabled at a limit.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """Outbox of webhook events: one row per event and webhook, written with the change."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_project_id_sequence", "project_id", "sequence"),
        Index(
            "ix_webhook_deliveries_webhook_id_project_id_sequence",
            "webhook_id",
            "project_id",
            "sequence",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # the same for every webhook the event goes to: receivers drop repeats by it.
    event_id: Mapped[str] = mapped_column(String(40))
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(String(32))
    # the event's place among its project's events: delivered in this order.
    sequence: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(40))
    # the event's JSON fields besides the envelope (action, event_id, sequence, created_at).
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditLog(Base):
    __tablename__ = "audit_logs"
    __table_args__ = (Index("ix_audit_logs_project_id_created_at", "project_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    project_id: Mapped[str | None] = mapped_column(String(32))
    detail_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IdempotencyKey(Base):
    """A caller's Idempotency-Key and the response it was answered with.

    The unique (user_id, key) decides which of several concurrent requests runs,
    on any number of servers sharing the database.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # sha256 hex of the RPC's full name and its request message(s).
    request_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    # the serialised response message, once the request succeeded.
    response: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ProjectReviewer(Base):
    """A user with the reviewer role who reviews a project's annotations."""

    __tablename__ = "project_reviewers"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Review(Base):
    """One verdict on an annotation (every round is kept)."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_project_id_created_at", "project_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[int] = mapped_column(BigInteger)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    # accept | reject
    verdict: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text)
    correction_annotation_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QualityScore(Base):
    """Sums behind the agreement and ground-truth reads (constant time per project).

    kind: agreement | ground_truth; user_id "" is every annotator, label "" every
    label. score_sum / score_count is the mean score; matched, answered and
    expected count regions (precision = matched / answered, recall = matched /
    expected).
    """

    __tablename__ = "quality_scores"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(255), primary_key=True)
    score_sum: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))
    score_count: Mapped[int] = _count()
    matched: Mapped[int] = _count()
    answered: Mapped[int] = _count()
    expected: Mapped[int] = _count()


class AgreementCoincidence(Base):
    """Krippendorff's coincidence matrix of a project's choices (nominal alpha)."""

    __tablename__ = "agreement_coincidences"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    value_a: Mapped[str] = mapped_column(String(255), primary_key=True)
    value_b: Mapped[str] = mapped_column(String(255), primary_key=True)
    weight: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))
