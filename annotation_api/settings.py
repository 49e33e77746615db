"""The one typed settings object, read from ANNOTATION_API_* environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of the server, the gateway and the command line.

    Built once at start-up and passed to what needs it; nothing reads the
    environment anywhere else.
    """

    model_config = SettingsConfigDict(env_prefix="ANNOTATION_API_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"), description="Where the SQLite file and exports live"
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default sqlite+aiosqlite in data_dir"
    )
    http_port: int = Field(default=8003, description="Port of the REST gateway")
    grpc_port: int = Field(default=50051, description="Port of the gRPC server")
    host: str = Field(default="0.0.0.0", description="Address both servers bind")
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
    max_message_bytes: int = Field(
        default=256 * 1024 * 1024, description="Largest gRPC message and REST JSON body"
    )
    max_upload_bytes: int = Field(default=1024**3, description="Largest prediction import file")
    log_level: str = Field(default="INFO")
    workbench_assets_dir: Path | None = Field(
        default=None,
        description="Installed workbench front-end files; default third_party/workbench",
    )

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.max_message_bytes <= 0 or self.max_upload_bytes <= 0:
            raise ValueError("size limits must be positive")
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'annotation.db').resolve()}"

    @cached_property
    def resolved_export_dir(self) -> Path:
        return (self.export_dir or self.data_dir / "exports").resolve()

    @cached_property
    def resolved_grpc_target(self) -> str:
        return self.grpc_target or f"localhost:{self.grpc_port}"
