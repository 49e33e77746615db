"""The one typed settings object, read from ANNOTATION_API_* environment variables."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A production bootstrap token must be at least this long (a guessable one is an admin login).
MIN_PRODUCTION_TOKEN_LENGTH = 32
# The message limit also bounds every REST JSON body; below this nothing useful fits.
MIN_MESSAGE_BYTES = 64 * 1024
MAX_TRANSFER_CHUNK_BYTES = 1024 * 1024


class Environment(StrEnum):
    """Where the process runs: production refuses unsafe settings at start."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Configuration of the server, the gateway and the command line.

    Built once at start-up and passed to what needs it; nothing reads the
    environment anywhere else. Every value is a plain field or computed from
    fields on each read, so a `model_copy(update=...)` never carries a value
    derived from the fields it replaced.
    """

    model_config = SettingsConfigDict(env_prefix="ANNOTATION_API_", extra="ignore")

    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="production: a server refuses to start with an empty callback secret "
        "or a bootstrap token shorter than 32 characters",
    )
    data_dir: Path = Field(
        default=Path("data"), description="Where the SQLite file and exports live"
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default sqlite+aiosqlite in data_dir"
    )
    sqlite_one_hop_cursor: bool = Field(
        default=True,
        description="SQLite statements in one trip to the driver's thread "
        "(storage/sqlite_cursor.py); false falls back to SQLAlchemy's stock cursor",
    )
    http_port: int = Field(default=8003, description="Port of the REST gateway")
    grpc_port: int = Field(default=50051, description="Port of the gRPC server")
    host: str = Field(default="0.0.0.0", description="Address both servers bind")
    workers: int | None = Field(
        default=None,
        ge=1,
        description="Serving processes of `serve`, sharing its ports; default the number of "
        "cores this process may use; 1 serves in one process",
    )
    grpc_target: str | None = Field(
        default=None, description="Server the gateway calls; default localhost:grpc_port"
    )
    public_base_url: str = Field(
        default="http://localhost:8003", description="Absolute base of file_url in callbacks"
    )
    bootstrap_token: str | None = Field(
        default=None, description="Token of the first super_admin, created when no user exists"
    )
    export_dir: Path | None = Field(
        default=None, description="Export files; default data_dir/exports"
    )
    export_ttl_hours: float = Field(
        default=168.0, description="How long an export stays downloadable"
    )
    export_lease_seconds: float = Field(
        default=30.0,
        description="How long a running export stays claimed by its server without a renewal; "
        "after that, another server marks it failed",
    )
    export_heartbeat_seconds: float = Field(
        default=10.0,
        description="How often the server writing an export renews its lease "
        "(and how often lapsed leases are looked for)",
    )
    callback_secret: str = Field(
        default="", description="HMAC-SHA256 key of X-Signature-256 on callbacks"
    )
    callback_allow_private: bool = Field(
        default=False, description="Allow callbacks to loopback/private/link-local targets"
    )
    callback_timeout_seconds: float = Field(default=10.0)
    callback_max_attempts: int = Field(default=8)
    callback_backoff_seconds: float = Field(
        default=30.0, description="First retry delay; doubles after each failure"
    )
    callback_poll_seconds: float = Field(default=1.0, description="How often the outbox is polled")
    webhook_max_consecutive_failures: int = Field(
        default=10,
        ge=1,
        description="Failed webhook delivery attempts in a row after which the webhook is "
        "disabled (docs/webhooks.md)",
    )
    auth_cache_seconds: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="How long a server remembers a resolved token (0 to 1 s; 0: never): "
        "a token revoked on another server stops working within this time",
    )
    max_message_bytes: int = Field(
        default=256 * 1024 * 1024, description="Largest gRPC message and REST JSON body"
    )
    max_upload_bytes: int = Field(default=1024**3, description="Largest prediction import file")
    http_header_timeout_seconds: float = Field(
        default=10.0, description="Time a client has to send a request's line and headers"
    )
    http_body_timeout_seconds: float = Field(
        default=60.0,
        description="Longest wait for the next piece of a request body, and the time a "
        "client has in all to send the first 64 KiB (read before its token is checked)",
    )
    http_keep_alive_seconds: int = Field(
        default=5, description="How long an idle keep-alive connection stays open"
    )
    http_max_concurrency: int = Field(
        default=1000, description="Open connections or requests in progress; more get 503"
    )
    http_max_concurrency_per_client: int = Field(
        default=100,
        description="Open connections from one client address; more get 503 (behind a "
        "proxy that connects from one address, raise it to http_max_concurrency)",
    )
    http_event_heartbeat_seconds: float = Field(
        default=15.0,
        gt=0,
        description="Idle time after which an event stream (Server-Sent Events) gets a "
        "comment line, so that proxies keep the connection open",
    )
    log_level: str = Field(default="INFO")
    workbench_assets_dir: Path | None = Field(
        default=None,
        description="Installed workbench front-end files; default third_party/workbench",
    )

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.max_message_bytes < MIN_MESSAGE_BYTES or self.max_upload_bytes <= 0:
            raise ValueError(
                f"max_message_bytes must be at least {MIN_MESSAGE_BYTES}; "
                "max_upload_bytes must be positive"
            )
        if not 0 < self.export_heartbeat_seconds < self.export_lease_seconds:
            raise ValueError(
                "export_heartbeat_seconds must be positive and shorter than export_lease_seconds"
            )
        timeouts = (
            self.http_header_timeout_seconds,
            self.http_body_timeout_seconds,
            self.http_keep_alive_seconds,
        )
        caps = (self.http_max_concurrency, self.http_max_concurrency_per_client)
        if min(timeouts) <= 0 or min(caps) <= 0:
            raise ValueError("HTTP timeouts and the concurrency caps must be positive")
        return self

    def production_problems(self) -> list[str]:
        """Why these settings may not run a server in production (none in development).

        Checked when `serve` starts a server, not here: the command line's user
        and token commands, and gateways, need neither secret.
        """
        if self.environment is not Environment.PRODUCTION:
            return []
        problems = []
        if not self.callback_secret:
            problems.append(
                "ANNOTATION_API_CALLBACK_SECRET is empty: callbacks would go out unsigned"
            )
        token = self.bootstrap_token
        if token is not None and len(token) < MIN_PRODUCTION_TOKEN_LENGTH:
            problems.append(
                f"ANNOTATION_API_BOOTSTRAP_TOKEN has {len(token)} characters; production needs "
                f"at least {MIN_PRODUCTION_TOKEN_LENGTH} (or none, to have one generated)"
            )
        return problems

    @property
    def https_targets_only(self) -> bool:
        """Callback and webhook URLs must be https (production)."""
        return self.environment is Environment.PRODUCTION

    @property
    def transfer_chunk_bytes(self) -> int:
        """Size of the file chunks of streamed uploads and downloads.

        Half the message limit (at most 1 MiB) leaves room for a message's
        other fields and framing, so that a file of any allowed size crosses
        gRPC at any configured limit.
        """
        return min(MAX_TRANSFER_CHUNK_BYTES, self.max_message_bytes // 2)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'annotation.db').resolve()}"

    @property
    def resolved_export_dir(self) -> Path:
        return (self.export_dir or self.data_dir / "exports").resolve()

    @property
    def resolved_workers(self) -> int:
        """The number of serving processes: `workers`, else the cores this process may use."""
        if self.workers is not None:
            return self.workers
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1

    @property
    def resolved_grpc_target(self) -> str:
        return self.grpc_target or f"localhost:{self.grpc_port}"
