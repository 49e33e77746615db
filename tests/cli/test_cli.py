"""The `annotation-api` command line: users, tokens, migrate, serve and the bootstrap token.

users/tokens/migrate run in-process through main(); serve runs as a real
subprocess that is stopped with SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest
from annotation.v1 import project_service_pb2, project_service_pb2_grpc

from annotation_api.cli import main
from storage.database import Database
from storage.users import find_user_by_token
from tests.serving import ServedProcess, start_serve


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the command line at the test's migrated database."""
    monkeypatch.setenv("ANNOTATION_API_DATABASE_URL", database_url)
    return database_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def owner_of(database_url: str, token: str) -> str | None:
    async def lookup() -> str | None:
        database = Database(database_url)
        try:
            async with database.read() as conn:
                user = await find_user_by_token(conn, token)
        finally:
            await database.dispose()
        return user.username if user else None

    return asyncio.run(lookup())


def test_users_and_tokens(cli_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "users", "create", "--username", "alice", "--role", "admin")
    assert code == 0 and "alice" in out[-1]

    code, out, _ = run(capsys, "tokens", "create", "--username", "alice")
    assert code == 0
    token = out[-1]
    assert token.startswith("aapi_") and " " not in token
    assert owner_of(cli_database, token) == "alice"

    code, out, _ = run(capsys, "tokens", "list", "--username", "alice")
    assert code == 0 and len(out) == 1
    prefix = out[0].split("\t")[0]
    assert token.startswith(prefix) and token not in out[0] and "active" in out[0]

    code, out, _ = run(capsys, "tokens", "revoke", "--prefix", prefix)
    assert code == 0 and owner_of(cli_database, token) is None
    code, out, _ = run(capsys, "tokens", "list")
    assert "revoked" in out[0]


def test_revoke_by_token_and_by_username(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "users", "create", "--username", "bob", "--role", "super_admin")
    tokens = [run(capsys, "tokens", "create", "--username", "bob")[1][-1] for _ in range(3)]

    assert run(capsys, "tokens", "revoke", "--token", tokens[0])[0] == 0
    assert [owner_of(cli_database, t) for t in tokens] == [None, "bob", "bob"]
    code, out, _ = run(capsys, "tokens", "revoke", "--username", "bob")
    assert code == 0 and len(out) == 2
    assert [owner_of(cli_database, t) for t in tokens] == [None, None, None]

    code, _, err = run(capsys, "tokens", "revoke", "--username", "bob")
    assert code == 1 and "no active token" in err


def test_errors_exit_non_zero(cli_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "users", "create", "--username", "carol", "--role", "annotator")
    code, out, _ = run(capsys, "users", "create", "--username", "rita", "--role", "reviewer")
    assert code == 0 and out[0].startswith("created reviewer rita")
    code, _, err = run(capsys, "users", "create", "--username", "carol", "--role", "admin")
    assert code == 1 and "taken" in err
    code, _, err = run(capsys, "tokens", "create", "--username", "nobody")
    assert code == 1 and "nobody" in err
    with pytest.raises(SystemExit):
        main(["users", "create", "--username", "x", "--role", "king"])


def test_migrate_creates_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANNOTATION_API_DATA_DIR", str(tmp_path / "fresh"))
    code, out, _ = run(capsys, "migrate")
    assert code == 0 and "up to date" in out[-1]
    assert (tmp_path / "fresh" / "annotation.db").exists()
    assert run(capsys, "users", "create", "--username", "dave", "--role", "admin")[0] == 0


@dataclass
class Served:
    serve: ServedProcess
    stdout: list[str]

    @property
    def grpc_port(self) -> int:
        assert self.serve.grpc_port is not None
        return self.serve.grpc_port

    @property
    def http_port(self) -> int | None:
        return self.serve.http_port


def start(env: dict[str, str], log: Path, *args: str, stdout_lines: int = 0) -> Served:
    """Start `annotation-api serve`; once it serves, read stdout_lines lines of its stdout."""
    serve = start_serve(env, log, *args, stdout=subprocess.PIPE)
    assert serve.process.stdout is not None
    stdout = [serve.process.stdout.readline().strip() for _ in range(stdout_lines)]
    return Served(serve, stdout)


def stop(served: Served) -> tuple[int, str]:
    process = served.serve.process
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    return process.returncode, out


@pytest.fixture
def serve_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATION_API_")}
    env["ANNOTATION_API_DATA_DIR"] = str(tmp_path / "data")
    return env


def progress_error(port: int, token: str) -> grpc.StatusCode:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = project_service_pb2_grpc.ProjectServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetProgress(
                project_service_pb2.GetProgressRequest(project_id="proj_000000000000"),
                metadata=(("authorization", f"Bearer {token}"),),
                timeout=10,
            )
    return caught.value.code()  # type: ignore[attr-defined, no-any-return]


@pytest.mark.slow
def test_serve_bootstraps_the_configured_token(serve_env: dict[str, str], tmp_path: Path) -> None:
    serve_env["ANNOTATION_API_BOOTSTRAP_TOKEN"] = "bootstrap-secret-0123456789abcdef"
    served = start(serve_env, tmp_path / "serve.log", "--role", "server")
    try:
        assert served.http_port is None
        # Authenticated (the project does not exist) versus refused.
        assert progress_error(served.grpc_port, "bootstrap-secret-0123456789abcdef") == (
            grpc.StatusCode.NOT_FOUND
        )
        assert progress_error(served.grpc_port, "wrong") == grpc.StatusCode.UNAUTHENTICATED
    finally:
        code, out = stop(served)
    assert code == 0
    assert "bootstrap-secret" not in out
    # The ready file (written once listening) is removed by the graceful stop.
    assert not (tmp_path / "serve.ready.json").exists()


@pytest.mark.slow
def test_serve_warns_when_the_bootstrap_token_is_ignored(
    serve_env: dict[str, str], tmp_path: Path
) -> None:
    """Users exist already: the configured token is not adopted, and the log says so."""
    serve_env["ANNOTATION_API_BOOTSTRAP_TOKEN"] = "bootstrap-secret-0123456789abcdef"
    first = start(serve_env, tmp_path / "first.log", "--role", "server")
    assert stop(first)[0] == 0
    assert "ignored" not in (tmp_path / "first.log").read_text()

    serve_env["ANNOTATION_API_BOOTSTRAP_TOKEN"] = "another-secret-0123456789abcdefgh"
    again = start(serve_env, tmp_path / "second.log", "--role", "server")
    try:
        assert progress_error(again.grpc_port, "another-secret-0123456789abcdefgh") == (
            grpc.StatusCode.UNAUTHENTICATED
        )
    finally:
        assert stop(again)[0] == 0
    log = (tmp_path / "second.log").read_text()
    assert "ANNOTATION_API_BOOTSTRAP_TOKEN is set but ignored" in log
    assert "another-secret" not in log


@pytest.mark.slow
def test_serve_prints_a_generated_token_once(serve_env: dict[str, str], tmp_path: Path) -> None:
    served = start(serve_env, tmp_path / "first.log", stdout_lines=2)
    try:
        assert "shown once" in served.stdout[0]
        token = served.stdout[1]
        assert progress_error(served.grpc_port, token) == grpc.StatusCode.NOT_FOUND
        health = httpx.get(f"http://127.0.0.1:{served.http_port}/healthz", timeout=10)
        assert health.status_code == 200
        progress = httpx.get(
            f"http://127.0.0.1:{served.http_port}/api/external/projects/proj_000000000000/progress",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert progress.status_code == 404
        assert progress.json()["error_code"] == "PROJECT_NOT_FOUND"
    finally:
        assert stop(served)[0] == 0

    again = start(serve_env, tmp_path / "second.log", "--role", "server")
    code, out = stop(again)
    assert code == 0 and out == ""


@pytest.fixture
def database_without_schema(
    db_engine: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> tuple[str, Path | None]:
    """A working directory whose data/ holds no database (SQLite), or an empty
    PostgreSQL database; returns the name the error must show and the SQLite path."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    if db_engine == "sqlite":
        path = tmp_path / "data" / "annotation.db"
        return str(path.resolve()), path
    url = str(request.getfixturevalue("empty_postgres_database_url"))
    monkeypatch.setenv("ANNOTATION_API_DATABASE_URL", url)
    return url.rsplit("/", 1)[-1], None


@pytest.mark.parametrize(
    "argv",
    [
        ("users", "create", "--username", "alice", "--role", "admin"),
        ("tokens", "create", "--username", "alice"),
        ("tokens", "list"),
        ("tokens", "revoke", "--username", "alice"),
    ],
)
def test_a_database_without_schema_is_named_and_left_alone(
    database_without_schema: tuple[str, Path | None],
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
) -> None:
    shown, sqlite_file = database_without_schema
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert out == []
    assert shown in err
    assert "has no schema" in err and "annotation-api migrate" in err
    if sqlite_file is not None:
        assert not sqlite_file.exists()
        assert list(sqlite_file.parent.iterdir()) == []
