"""`python -m bench`: run every figure once and write the report.

    .venv/bin/python -m bench --size full|smoke [--database-url URL] [--runs 3]
                              [--output docs/benchmarks.md] [--json PATH] [--keep]

Order: the admin and its token (command line), then per group of figures a
fresh server: init (with the raw insert of the same rows), progress, export
(projects seeded first), prediction import, the annotation loop, the cost of a call,
scaling with `serve --workers N`, annotation import. The report is written at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bench.machine import describe_machine
from bench.plan import PLANS
from bench.process import server_environment
from bench.raw import RawEngine
from bench.report import render
from bench.scenarios.annotation_import import run_annotation_import
from bench.scenarios.calls import run_calls
from bench.scenarios.exports import run_exports
from bench.scenarios.import_memory import run_import_memory
from bench.scenarios.imports import run_imports
from bench.scenarios.init import run_init
from bench.scenarios.loop import run_loop
from bench.scenarios.progress import run_progress
from bench.scenarios.scaling import run_scaling
from bench.scenarios.watch import run_watch
from bench.scenarios.webhooks import run_webhooks
from bench.session import Session
from bench.targets import check_targets

ROOT = Path(__file__).resolve().parent.parent
GROUPS = {
    "init": run_init,
    "progress": run_progress,
    "export": run_exports,
    "import": run_imports,
    "import_memory": run_import_memory,
    "loop": run_loop,
    "calls": run_calls,
    "scaling": run_scaling,
    "annotation_import": run_annotation_import,
    "watch": run_watch,
    "webhooks": run_webhooks,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(PLANS), default="full")
    parser.add_argument(
        "--database-url",
        help="the server's database (postgresql+asyncpg://...); default: SQLite in a temp dir",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--json", type=Path, help="also write every figure as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample every server with py-spy into DIR (collapsed stacks; summarize them "
        "with `python -m bench.profiles FILE`); the figures are then not representative",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(GROUPS),
        help="run only these groups of figures (repeatable; for profiling: the report is partial)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def run(args: argparse.Namespace, workdir: Path, command: str) -> str:
    plan = PLANS[args.size]
    started = datetime.now(UTC)
    database_url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'data' / 'annotation.db'}"
    env = server_environment(data_dir=workdir / "data", database_url=args.database_url)
    # Alembic runs its own event loop: keep it off this one.
    await asyncio.to_thread(RawEngine.migrate, workdir / "raw.db")
    raw = RawEngine(workdir / "raw.db")
    session = Session(
        plan=plan,
        runs=args.runs,
        workdir=workdir,
        env=env,
        database_url=database_url,
        raw=raw,
        log=log,
    )
    session.profile_dir = args.profile
    try:
        session.cli.run("migrate")
        machine = await describe_machine(database_url, ROOT)
        username = f"bench-{uuid.uuid4().hex[:8]}"
        session.token = session.cli.create_admin_token(username)
        session.admin_id = await admin_id(session, username)
        log(f"{plan.name} run, {args.runs} runs per figure, data in {workdir}")

        for name, group in GROUPS.items():
            if not args.only or name in args.only:
                await group(session)
    finally:
        raw.close()

    if args.json:
        args.json.write_bytes(orjson.dumps(session.results.to_json(), option=orjson.OPT_INDENT_2))
    verdicts = check_targets(
        session.results,
        init_sizes=plan.init_sizes,
        export_sizes=plan.export_sizes,
        import_memory_sizes=plan.import_memory_sizes,
    )
    for verdict in verdicts:
        log(f"{verdict.label:>10}: {verdict.target}: {verdict.measured}")
    return render(
        results=session.results,
        plan=plan,
        runs=args.runs,
        command=command,
        machine=machine,
        verdicts=verdicts,
        started=started,
        finished=datetime.now(UTC),
        load_at_end=", ".join(f"{x:.2f}" for x in os.getloadavg()),
    )


async def admin_id(session: Session, username: str) -> str:
    from storage.users import get_user_by_username

    async with session.database() as database, database.read() as conn:
        user = await get_user_by_username(conn, username)
    if user is None:
        raise SystemExit(f"the command line did not create {username}")
    return user.user_id


def command_text(argv: list[str] | None) -> str:
    """The command as typed, with any database password hidden."""
    words = []
    for word in sys.argv[1:] if argv is None else argv:
        if "://" in word and "@" in word:
            scheme, rest = word.split("://", 1)
            word = f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
        words.append(shlex.quote(word))
    return " ".join([".venv/bin/python -m bench", *words])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="annotation-bench-"))
    try:
        report = asyncio.run(run(args, workdir, command_text(argv)))
    except BaseException:
        log(f"failed; the server log and data are kept in {workdir}")
        raise
    if args.keep:
        log(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
