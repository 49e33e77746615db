"""A throwaway PostgreSQL cluster for the test session (a pytest plugin).

The session starts its own server: `initdb` + `pg_ctl start` into a temporary
directory, on a free port, as the `postgres` user when the tests run as root
(PostgreSQL refuses to run as root). Each test gets a fresh database copied
from a template that already holds the migrated schema, which is much faster
than migrating per test; the cluster is stopped and deleted at the end.

Engine selection: `--db-engines sqlite,postgresql` (default: the
ANNOTATION_API_TEST_ENGINES environment variable, else both). A test that
requests the `db_engine` fixture runs once per selected engine, with ids
`[sqlite]` / `[postgresql]`.

Without PostgreSQL binaries the postgresql runs are skipped locally; under
CI=true a cluster that cannot start fails them instead, so CI can never turn
green by silently testing one engine.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

ENGINES = ("sqlite", "postgresql")
ENGINES_ENV = "ANNOTATION_API_TEST_ENGINES"
TEMPLATE_DATABASE = "annotation_template"
SUPERUSER = "postgres"
START_ATTEMPTS = 3

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "300",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
}
# Durability is worthless in a cluster deleted at the end of the session;
# turning it off makes CREATE DATABASE and commits several times faster.
# Benchmarks keep PostgreSQL's defaults (durable=True) to compare fairly.
NON_DURABLE_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}

T = TypeVar("T")


class PostgresUnavailable(RuntimeError):
    """The cluster could not be started (no binaries, no postgres user, start failure)."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def find_bindir() -> Path:
    """The folder holding initdb and pg_ctl: PATH first, then Debian's layout."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    raise PostgresUnavailable("initdb not found on PATH nor under /usr/lib/postgresql/*/bin")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a private loop in a worker thread.

    Sync fixtures may be called while pytest-asyncio owns the main thread's
    event loop; a separate thread keeps the two loops from ever meeting.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass
class PostgresCluster:
    """One running PostgreSQL server owned by the test session."""

    bindir: Path
    root: Path
    port: int = 0
    run_as: str | None = None
    major_version: int = 0
    durable: bool = False
    databases: set[str] = field(default_factory=set)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str, *, driver: str = "asyncpg") -> str:
        """SQLAlchemy URL of a database of this cluster."""
        return f"postgresql+{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """libpq/asyncpg DSN of a database of this cluster."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            self.datadir,
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# test session settings\n")
            conf.write(f"unix_socket_directories = '{self.root}'\n")
            settings = SERVER_SETTINGS | ({} if self.durable else NON_DURABLE_SETTINGS)
            for name, value in settings.items():
                conf.write(f"{name} = {value}\n")
        last_error: Exception | None = None
        for _ in range(START_ATTEMPTS):
            # The port may be taken between free_port() and the bind: retry.
            self.port = free_port()
            try:
                self._run(
                    "pg_ctl",
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    self.datadir,
                    "-l",
                    self.logfile,
                    "-o",
                    f"-p {self.port}",
                )
                self.major_version = self.server_version()
                return
            except PostgresUnavailable as exc:
                last_error = exc
        raise PostgresUnavailable(f"pg_ctl start failed: {last_error}\n{self.log_tail()}")

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable):
                self._run("pg_ctl", "stop", "-D", self.datadir, "-m", "immediate", "-w")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _run(self, program: str, *args: object) -> None:
        command = [str(self.bindir / program), *(str(a) for a in args)]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{' '.join(command)} exited {result.returncode}: {result.stderr.strip()}"
            )

    # -- databases -------------------------------------------------------------

    def execute(self, *statements: str, database: str = "postgres") -> None:
        """Run statements outside a transaction (CREATE/DROP DATABASE need that)."""

        async def run() -> None:
            conn = await asyncpg.connect(self.dsn(database))
            try:
                for statement in statements:
                    await conn.execute(statement)
            finally:
                await conn.close()

        run_async(run())

    def server_version(self) -> int:
        """The server's major version (e.g. 15)."""

        async def query() -> int:
            conn = await asyncpg.connect(self.dsn())
            try:
                return int(conn.get_server_version().major)
            finally:
                await conn.close()

        return run_async(query())

    def create_database(self, *, template: str = "template0") -> str:
        """Create a uniquely named database (a copy of template); return its name."""
        name = f"test_{uuid.uuid4().hex[:16]}"
        # FILE_COPY (PostgreSQL 15+) copies a small template about 4x faster
        # than the default WAL_LOG strategy; with fsync off its checkpoint is cheap.
        strategy = " STRATEGY FILE_COPY" if self.major_version >= 15 else ""
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
        self.databases.add(name)
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database even while a test's pool still holds connections to it."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.databases.discard(name)

    def prepare_template(self) -> None:
        """Create the migrated template every per-test database is copied from."""
        from storage.migrate import upgrade_to_head

        self.execute(f'CREATE DATABASE "{TEMPLATE_DATABASE}" TEMPLATE template0')
        # Alembic's env runs its own event loop: keep it off the test thread too.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(upgrade_to_head, self.url(TEMPLATE_DATABASE)).result()


def make_root(run_as: str | None) -> Path:
    """A temporary folder the server's user owns (and can reach)."""
    if run_as is None:
        return Path(tempfile.mkdtemp(prefix="annotation-pg-"))
    # /tmp is traversable by every user, whatever TMPDIR says for root.
    root = Path(tempfile.mkdtemp(prefix="annotation-pg-", dir="/tmp"))
    entry = pwd.getpwnam(run_as)
    os.chown(root, entry.pw_uid, entry.pw_gid)
    return root


def server_user() -> str | None:
    """The user PostgreSQL runs as: `postgres` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError as exc:
        raise PostgresUnavailable("running as root and no 'postgres' user exists") from exc
    if shutil.which("runuser") is None:
        raise PostgresUnavailable("running as root and runuser is not available")
    return SUPERUSER


@contextlib.contextmanager
def running_cluster(*, durable: bool = False) -> Iterator[PostgresCluster]:
    """Start a cluster with a migrated template; stop and delete it on exit."""
    bindir = find_bindir()
    run_as = server_user()
    root = make_root(run_as)
    cluster = PostgresCluster(bindir=bindir, root=root, run_as=run_as, durable=durable)
    try:
        cluster.start()
        cluster.prepare_template()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


# -- pytest wiring -------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db-engines",
        default=os.environ.get(ENGINES_ENV, ",".join(ENGINES)),
        help=f"comma-separated database engines to run tests on ({', '.join(ENGINES)}); "
        f"default ${ENGINES_ENV} or all",
    )


def selected_engines(config: pytest.Config) -> list[str]:
    raw = str(config.getoption("--db-engines"))
    engines = [e.strip() for e in raw.split(",") if e.strip()]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown or not engines:
        raise pytest.UsageError(f"--db-engines: unknown engine(s) {unknown}; use {ENGINES}")
    return engines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that depends on `db_engine` once per selected engine."""
    if "db_engine" in metafunc.fixturenames:
        engines = selected_engines(metafunc.config)
        metafunc.parametrize("db_engine", engines, ids=engines, scope="function")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """The session's PostgreSQL cluster (skipped locally when unavailable, failed in CI)."""
    try:
        with running_cluster() as cluster:
            yield cluster
    except PostgresUnavailable as exc:
        if in_ci():
            pytest.fail(f"PostgreSQL is required under CI=true: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL unavailable: {exc}")


@pytest.fixture
def postgres_database_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """URL of a fresh, migrated PostgreSQL database, dropped after the test."""
    name = postgres_cluster.create_database(template=TEMPLATE_DATABASE)
    try:
        yield postgres_cluster.url(name)
    finally:
        postgres_cluster.drop_database(name)


@pytest.fixture
def empty_postgres_database_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """URL of a fresh PostgreSQL database with no schema at all, dropped after the test."""
    name = postgres_cluster.create_database()
    try:
        yield postgres_cluster.url(name)
    finally:
        postgres_cluster.drop_database(name)
