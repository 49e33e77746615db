"""The `annotation-api` command: serve, migrate, users and tokens.

    annotation-api serve [--role all|server|gateway] [--http-port N] [--grpc-port N] [--host H]
                         [--workers N] [--ready-file PATH]
    annotation-api migrate
    annotation-api users create --username U --role super_admin|admin|annotator|reviewer
    annotation-api tokens create --username U        (the token alone on stdout's last line)
    annotation-api tokens list [--username U]
    annotation-api tokens revoke --token T | --prefix P | --username U

`serve --role all` (the default) runs the gRPC server and the REST gateway in
one process and event loop; `--role server` / `--role gateway` run one of
them, for fleets of gateways and servers sharing one database. Roles that
include the server bring the schema up to date before listening and
bootstrap the first super_admin (ANNOTATION_API_BOOTSTRAP_TOKEN). SIGTERM and
SIGINT stop both gracefully: no new calls, running ones finish. With
`--ready-file PATH`, the bound ports are written to PATH once listening
(annotation_api/ready.py), for whoever started the process. `--workers N`
(default: the number of cores) runs N such processes on the same ports
under one supervising process (annotation_api/workers.py); `--workers 1`
serves in this one process.

This module is the composition root: the only place that wires settings,
storage, server and gateway together.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from annotation_api.errors import DomainError, ErrorCode
from annotation_api.log import configure_logging
from annotation_api.ready import ReadyPorts, write_ready_file
from annotation_api.settings import Settings

if TYPE_CHECKING:
    # Imported where used at run time: `users` and `tokens` need neither gRPC nor the gateway.
    from annotation_api.workers import Supervised
    from gateway.serve import RunningGateway
    from server.app import RunningServer
    from storage.database import Database

log = logging.getLogger("annotation_api")

SHUTDOWN_GRACE_SECONDS = 10.0


class Role(StrEnum):
    ALL = "all"
    SERVER = "server"
    GATEWAY = "gateway"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="annotation-api", description="Annotation platform external API"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gRPC server and/or the REST gateway")
    serve.add_argument(
        "--role",
        choices=[r.value for r in Role],
        default=Role.ALL.value,
        help="all (default): server and gateway in one process; server or gateway: one of them",
    )
    serve.add_argument("--http-port", type=int, help="gateway port (default 8003)")
    serve.add_argument("--grpc-port", type=int, help="gRPC port (default 50051)")
    serve.add_argument("--host", help="address both bind (default 0.0.0.0)")
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="serving processes sharing the ports (default: the number of cores; "
        "1: serve in this one process)",
    )
    serve.add_argument(
        "--ready-file",
        type=Path,
        metavar="PATH",
        help='once listening, write {"grpc_port", "http_port"} as JSON to PATH (atomically)',
    )

    commands.add_parser("migrate", help="bring the database schema up to date")

    users = commands.add_parser("users", help="manage users").add_subparsers(
        dest="action", required=True
    )
    create_user = users.add_parser("create", help="create a user")
    create_user.add_argument("--username", required=True)
    create_user.add_argument(
        "--role", required=True, choices=["super_admin", "admin", "annotator", "reviewer"]
    )

    tokens = commands.add_parser("tokens", help="manage API tokens").add_subparsers(
        dest="action", required=True
    )
    create_token = tokens.add_parser(
        "create", help="issue a token; it is printed once, alone on the last line"
    )
    create_token.add_argument("--username", required=True)
    list_tokens = tokens.add_parser("list", help="list tokens (prefixes only, never secrets)")
    list_tokens.add_argument("--username")
    revoke = tokens.add_parser("revoke", help="revoke tokens")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--token", help="the token itself")
    which.add_argument("--prefix", help="the prefix shown by `tokens list` (one token)")
    which.add_argument("--username", help="every active token of this user")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with command-line options taking precedence."""
    overrides: dict[str, Any] = {}
    for option in ("http_port", "grpc_port", "host", "workers"):
        value = getattr(args, option, None)
        if value is not None:
            overrides[option] = value
    return Settings(**overrides)


async def _open_database(settings: Settings, *, migrate: bool = False) -> Database:
    """The database, migrated first when asked; a database without schema is refused
    (naming it) before anything is written, so no empty SQLite file is left behind."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from storage.database import Database
    from storage.migrate import has_schema, upgrade_to_head_async

    url = settings.resolved_database_url
    if migrate:
        await upgrade_to_head_async(url)
        return Database(url, one_hop_cursor=settings.sqlite_one_hop_cursor)
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        migrated = await has_schema(url)
    except (SQLAlchemyError, OSError) as exc:
        raise DomainError(
            ErrorCode.INTERNAL_ERROR, f"cannot open the database {shown}: {exc}"
        ) from exc
    if not migrated:
        raise DomainError(
            ErrorCode.INTERNAL_ERROR,
            f"the database {shown} has no schema: run `annotation-api migrate` first",
        )
    return Database(url, one_hop_cursor=settings.sqlite_one_hop_cursor)


async def run_migrate(settings: Settings) -> None:
    database = await _open_database(settings, migrate=True)
    await database.dispose()
    print(f"database is up to date: {database.url.render_as_string(hide_password=True)}")


async def run_users_create(settings: Settings, args: argparse.Namespace) -> None:
    from server.accounts import create_user

    database = await _open_database(settings)
    try:
        user = await create_user(database, username=args.username, role=args.role)
    finally:
        await database.dispose()
    print(f"created {user.role} {user.username} ({user.user_id})")


async def run_tokens(settings: Settings, args: argparse.Namespace) -> None:
    from server import accounts

    database = await _open_database(settings)
    try:
        if args.action == "create":
            issued = await accounts.create_token(database, username=args.username)
            print(f"token for {issued.record.username} (prefix {issued.record.prefix}):")
            print(issued.secret)
        elif args.action == "list":
            for token in await accounts.find_tokens(database, username=args.username):
                state = (
                    f"revoked {token.revoked_at:%Y-%m-%dT%H:%M:%SZ}"
                    if token.revoked_at
                    else "active"
                )
                print(
                    f"{token.prefix}\t{token.username}\t{token.created_at:%Y-%m-%dT%H:%M:%SZ}\t{state}"
                )
        else:
            revoked = await accounts.revoke(
                database, secret=args.token, prefix=args.prefix, username=args.username
            )
            for token in revoked:
                print(f"revoked {token.prefix} of {token.username}")
    finally:
        await database.dispose()


async def _bootstrap(settings: Settings, database: Database) -> None:
    from server.accounts import bootstrap_super_admin

    result = await bootstrap_super_admin(database, configured_token=settings.bootstrap_token)
    if result.generated_secret:
        # Shown once: only its hash is stored.
        print(
            f"created super_admin {result.user.username if result.user else ''}; "
            "its API token (shown once, keep it safe):",
            flush=True,
        )
        print(result.generated_secret, flush=True)


async def prepare_database(settings: Settings) -> None:
    """What a server does once before it serves: migrate, bootstrap the first super_admin."""
    database = await _open_database(settings, migrate=True)
    try:
        await _bootstrap(settings, database)
    finally:
        await database.dispose()


async def run_serve(
    settings: Settings,
    role: Role,
    *,
    ready_file: Path | None = None,
    supervised: Supervised | None = None,
) -> None:
    """Run until SIGTERM/SIGINT, then stop gracefully.

    `supervised`: this process is one of the serving processes of `serve
    --workers N` (annotation_api/workers.py); the supervisor has migrated the
    database and bound the ports, and hears of readiness through `announce`.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if supervised is not None:
        # The supervisor gone (even killed) is a reason to stop: no orphan keeps serving.
        loop.add_reader(supervised.parent_sentinel, stop.set)

    database: Database | None = None
    server: RunningServer | None = None
    gateway: RunningGateway | None = None
    try:
        if role in (Role.ALL, Role.SERVER):
            from server.app import start_server

            database = await _open_database(settings, migrate=supervised is None)
            if supervised is None:
                await _bootstrap(settings, database)
            server = await start_server(settings, database)
        if role in (Role.ALL, Role.GATEWAY):
            from gateway.serve import start_gateway

            gateway_settings = settings
            if server is not None and settings.grpc_target is None:
                # The gateway calls the server of this process, wherever it bound.
                gateway_settings = Settings(
                    **{**settings.model_dump(), "grpc_target": f"localhost:{server.port}"}
                )
            gateway = await start_gateway(
                gateway_settings, sock=supervised.http_socket if supervised else None
            )
        ports = ReadyPorts(
            grpc_port=server.port if server else None,
            http_port=gateway.port if gateway else None,
            worker_pids=(os.getpid(),),
        )
        log.info("serving", extra={"role": role.value, **asdict(ports)})
        if supervised is not None:
            supervised.announce(ports)
        if ready_file is not None:
            write_ready_file(ready_file, ports)
        stopping = asyncio.ensure_future(stop.wait())
        # uvicorn catches the signal itself while it runs (and re-raises it after),
        # so the gateway ending is a reason to stop too.
        await asyncio.wait(
            [stopping, *([gateway.task] if gateway else [])], return_when=asyncio.FIRST_COMPLETED
        )
        stopping.cancel()
        log.info("shutting down")
    finally:
        if gateway is not None:
            await gateway.stop()
        if server is not None:
            await server.stop(SHUTDOWN_GRACE_SECONDS)
        if database is not None:
            await database.dispose()
        if ready_file is not None:
            ready_file.unlink(missing_ok=True)
        log.info("stopped")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from(args)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            text = str(error["msg"]).removeprefix("Value error, ")
            print(
                f"error: invalid settings: {where + ': ' if where else ''}{text}", file=sys.stderr
            )
        return 2
    configure_logging(settings.log_level)
    try:
        if args.command == "serve":
            role = Role(args.role)
            problems = settings.production_problems() if role is not Role.GATEWAY else []
            for problem in problems:
                print(f"error: refusing to serve in production: {problem}", file=sys.stderr)
            if problems:
                return 2
            workers = settings.resolved_workers
            if workers > 1:
                from annotation_api.workers import supervise

                return supervise(settings, role, count=workers, ready_file=args.ready_file)
            asyncio.run(run_serve(settings, role, ready_file=args.ready_file))
        elif args.command == "migrate":
            asyncio.run(run_migrate(settings))
        elif args.command == "users":
            asyncio.run(run_users_create(settings, args))
        else:
            asyncio.run(run_tokens(settings, args))
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except (OSError, RuntimeError) as exc:
        # e.g. a port already in use: say so plainly rather than with a traceback.
        log.error("cannot run %s: %s", args.command, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
