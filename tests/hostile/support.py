"""A real `annotation-api serve` process for hostile inputs, and its memory.

    async with served_process(settings, tmp_path) as served:
        memory = ServerMemory(served.process.pid)
        ... requests ...
        assert memory.growth_mb() <= 20

The process runs server and gateway in one (`--role all`) on the test's
database, so its resident memory is the whole service's. Growth is measured
from a baseline taken after warm-up requests, as the peak since then
(VmHWM, reset through /proc/<pid>/clear_refs) where Linux offers it, else as
the resident size now (psutil): a request that builds a large structure and
frees it again still shows in the peak.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx
import psutil

from annotation_api.settings import Settings
from tests.helpers import TestUser
from tests.serving import ServedProcess, serve_environment, start_serve, stop_serve

MB = 1024 * 1024


@contextlib.asynccontextmanager
async def served_process(
    settings: Settings, log_dir: Path, **extra: str
) -> AsyncIterator[ServedProcess]:
    """`annotation-api serve` on the test's data directory and database (extra settings
    as ANNOTATION_API_* values, e.g. http_body_timeout_seconds="2")."""
    env = serve_environment(
        {
            "data_dir": str(settings.data_dir),
            "database_url": settings.resolved_database_url,
            "callback_secret": "test-secret",
            **extra,
        }
    )
    served = start_serve(env, log_dir / "serve.log")
    try:
        yield served
    finally:
        stop_serve(served)


def auth(user: TestUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


class ServerMemory:
    """The growth of a process's memory since the last reset, in bytes."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self._status = Path(f"/proc/{pid}/status")
        self._clear_refs = Path(f"/proc/{pid}/clear_refs")
        self._baseline = 0
        self.reset()

    def rss(self) -> int:
        return int(self._process.memory_info().rss)

    def reset(self) -> None:
        with contextlib.suppress(OSError):
            self._clear_refs.write_text("5")  # resets the peak (VmHWM) to the current size
        self._baseline = self.rss()

    def peak(self) -> int:
        """The highest resident size since reset (the current one without /proc)."""
        with contextlib.suppress(OSError):
            for line in self._status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return max(int(line.split()[1]) * 1024, self.rss())
        return self.rss()

    def growth(self) -> int:
        return self.peak() - self._baseline


async def init_project(
    client: httpx.AsyncClient, user: TestUser, **fields: object
) -> dict[str, object]:
    """A project made over REST (InitProject), with two image tasks by default."""
    body: Mapping[str, object] = {
        "name": "hostile inputs",
        "task_type": "object_detection",
        "data": [
            {"id": "a", "content": "https://img.example/a.jpg"},
            {"id": "b", "content": "https://img.example/b.png"},
        ],
        "tags": [{"tag": "cat"}, {"tag": "dog"}],
        **fields,
    }
    response = await client.post("/api/external/projects/init", json=body, headers=auth(user))
    assert response.status_code == 200, response.text
    project: dict[str, object] = response.json()
    return project
