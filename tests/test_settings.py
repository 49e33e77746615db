"""Settings: derived values follow their fields; production refuses unsafe secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from annotation_api.cli import main
from annotation_api.settings import Environment, Settings

LONG_TOKEN = "t" * 32


def test_derived_values_follow_a_copy(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "a", grpc_port=1234)
    assert settings.resolved_export_dir == (tmp_path / "a" / "exports").resolve()
    assert settings.resolved_grpc_target == "localhost:1234"

    copy = settings.model_copy(
        update={"export_dir": tmp_path / "b", "grpc_port": 5678, "data_dir": tmp_path / "c"}
    )
    assert copy.resolved_export_dir == (tmp_path / "b").resolve()
    assert copy.resolved_grpc_target == "localhost:5678"
    assert copy.resolved_database_url.endswith(f"{(tmp_path / 'c').resolve()}/annotation.db")


def test_development_accepts_the_defaults() -> None:
    assert Settings().environment is Environment.DEVELOPMENT
    assert Settings(bootstrap_token="short").production_problems() == []


def test_production_refuses_an_empty_callback_secret() -> None:
    settings = Settings(environment="production", bootstrap_token=LONG_TOKEN)
    assert ["CALLBACK_SECRET" in p for p in settings.production_problems()] == [True]


def test_production_refuses_a_short_bootstrap_token() -> None:
    settings = Settings(environment="production", callback_secret="s", bootstrap_token="t" * 31)
    assert ["at least 32" in p for p in settings.production_problems()] == [True]


def test_production_accepts_safe_settings() -> None:
    safe = Settings(environment="production", callback_secret="s", bootstrap_token=LONG_TOKEN)
    assert safe.production_problems() == []
    # No bootstrap token: one is generated at the first start and shown once.
    assert Settings(environment="production", callback_secret="s").production_problems() == []


def test_an_unknown_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValidationError):
        Settings(environment="prod")
    monkeypatch.setenv("ANNOTATION_API_ENVIRONMENT", "prod")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "error: invalid settings: environment" in err and "Traceback" not in err


def test_serve_in_production_refuses_to_start_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("ANNOTATION_API_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ANNOTATION_API_ENVIRONMENT", "production")
    monkeypatch.setenv("ANNOTATION_API_BOOTSTRAP_TOKEN", "too-short")
    monkeypatch.setenv("ANNOTATION_API_CALLBACK_SECRET", "secret")

    assert main(["serve", "--grpc-port", "0", "--http-port", "0"]) == 2

    err = capsys.readouterr().err
    assert "refusing to serve in production" in err and "at least 32" in err
    assert "Traceback" not in err
    assert not (tmp_path / "annotation.db").exists()


def test_serving_workers_default_to_the_usable_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().resolved_workers == len(os.sched_getaffinity(0))
    monkeypatch.setenv("ANNOTATION_API_WORKERS", "3")
    assert Settings().resolved_workers == 3
    assert Settings(workers=1).resolved_workers == 1


def test_serve_refuses_zero_workers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("ANNOTATION_API_DATA_DIR", str(tmp_path))

    assert main(["serve", "--workers", "0"]) == 2

    err = capsys.readouterr().err
    assert "workers" in err and "greater than or equal to 1" in err
    assert not (tmp_path / "annotation.db").exists()
