"""What the figures were measured on."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path

import psutil
from sqlalchemy import text

from storage.database import Database

PACKAGES = (
    "grpcio",
    "protobuf",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "orjson",
    "httpx",
)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision(root: Path) -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (uncommitted changes in the tree)" if dirty else head


async def database_version(url: str) -> str:
    database = Database(url)
    try:
        async with database.read() as conn:
            if database.is_sqlite:
                return "SQLite " + str(
                    (await conn.execute(text("select sqlite_version()"))).scalar()
                )
            return "PostgreSQL " + str((await conn.execute(text("show server_version"))).scalar())
    finally:
        await database.dispose()


async def describe_machine(database_url: str, root: Path) -> dict[str, str]:
    memory = psutil.virtual_memory().total
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return {
        "CPU": cpu_model(),
        "cores": f"{psutil.cpu_count(logical=False) or '?'} physical, {os.cpu_count()} logical",
        "RAM": f"{memory / 2**30:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "server database": await database_version(database_url),
        "raw engine": f"stdlib sqlite3, SQLite {sqlite3.sqlite_version}",
        "packages": ", ".join(versions),
        "commit": git_revision(root),
        "load average at start (1, 5, 15 min)": load,
    }
