"""The server under test as a separate process, its command line, and its memory.

The server is started exactly as an operator starts it (`annotation-api serve`,
both roles in one process) with ports 0: it writes the ports it bound to its
ready file (`--ready-file`), which is how the bench finds them. Memory is read from
/proc: the kernel's high-water mark (VmHWM) is reset before each measured
run (`/proc/<pid>/clear_refs` = 5), so the peak belongs to that run alone;
where the reset is not allowed, a thread samples the RSS every few
milliseconds instead.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from annotation_api.ready import wait_for_ready_file

START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 60.0
SAMPLE_INTERVAL_SECONDS = 0.005
MIB = 1024 * 1024


def command_line() -> list[str]:
    """`annotation-api` of this interpreter's environment (the module if no script)."""
    script = Path(sys.executable).with_name("annotation-api")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "annotation_api.cli"]


class CommandLine:
    """Runs `annotation-api` subcommands against the bench's database."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)

    def run(self, *args: str) -> str:
        """Run a subcommand; its stdout, or SystemExit with its stderr."""
        done = subprocess.run(
            [*command_line(), *args], env=self.env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"annotation-api {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout

    def create_admin_token(self, username: str) -> str:
        """A new admin and a token of theirs (the token is stdout's last line)."""
        self.run("users", "create", "--username", username, "--role", "admin")
        return self.run("tokens", "create", "--username", username).strip().splitlines()[-1]


@dataclass(frozen=True, slots=True)
class MemoryUse:
    """The server's memory and CPU over one measured run (bytes, seconds)."""

    before: int
    after: int
    peak: int
    cpu_seconds: float

    @property
    def growth(self) -> int:
        return max(0, self.peak - self.before)


def _status_kib(pid: int, *keys: str) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in keys:
            values[key] = int(rest.split()[0])
    return values


class MemoryProbe:
    """Measures one run at a time: `mark = probe.begin()` ... `probe.end(mark)`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.process = psutil.Process(pid)
        self.resettable = self._try_reset()
        self._sampler: threading.Thread | None = None
        self._sampling = threading.Event()
        self._sampled_peak = 0

    def _try_reset(self) -> bool:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            return "VmHWM" in _status_kib(self.pid, "VmHWM")
        except OSError:
            return False

    def rss(self) -> int:
        return int(self.process.memory_info().rss)

    def cpu(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def begin(self) -> tuple[int, float]:
        if self.resettable:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        else:
            self._start_sampler()
        return self.rss(), self.cpu()

    def end(self, mark: tuple[int, float]) -> MemoryUse:
        before, cpu_before = mark
        after = self.rss()
        if self.resettable:
            peak = _status_kib(self.pid, "VmHWM")["VmHWM"] * 1024
        else:
            peak = self._stop_sampler()
        return MemoryUse(
            before=before,
            after=after,
            peak=max(peak, before, after),
            cpu_seconds=self.cpu() - cpu_before,
        )

    def _start_sampler(self) -> None:
        self._sampled_peak = self.rss()
        self._sampling.set()

        def sample() -> None:
            while self._sampling.is_set():
                with contextlib.suppress(psutil.Error):
                    self._sampled_peak = max(self._sampled_peak, self.rss())
                time.sleep(SAMPLE_INTERVAL_SECONDS)

        self._sampler = threading.Thread(target=sample, daemon=True)
        self._sampler.start()

    def _stop_sampler(self) -> int:
        self._sampling.clear()
        if self._sampler is not None:
            self._sampler.join()
        return self._sampled_peak


class ServerProcess:
    """`annotation-api serve` on free ports; a context manager that stops it on exit."""

    def __init__(
        self,
        env: Mapping[str, str],
        log_path: Path,
        extra_args: Sequence[str] = (),
        *,
        profile_path: Path | None = None,
    ) -> None:
        self.env = dict(env)
        self.log_path = log_path
        self.extra_args = list(extra_args)
        self.profile_path = profile_path
        self.profiler: subprocess.Popen[bytes] | None = None
        self.popen: subprocess.Popen[bytes] | None = None
        self.http_port = 0
        self.grpc_port = 0
        self.memory: MemoryProbe | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self) -> ServerProcess:
        ready = self.log_path.with_suffix(".ready.json")
        ready.unlink(missing_ok=True)
        log = self.log_path.open("ab")
        args = ["serve", "--host", "127.0.0.1", "--http-port", "0", "--grpc-port", "0"]
        self.popen = subprocess.Popen(
            [*command_line(), *args, "--ready-file", str(ready), *self.extra_args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        try:
            ports = wait_for_ready_file(
                ready, exit_code=self.popen.poll, timeout=START_TIMEOUT_SECONDS
            )
        except RuntimeError as exc:
            self.stop()
            raise SystemExit(f"the server did not start: {exc}; see {self.log_path}") from None
        assert ports.http_port is not None and ports.grpc_port is not None
        self.http_port, self.grpc_port = ports.http_port, ports.grpc_port
        self.memory = MemoryProbe(self.pid)
        if self.profile_path is not None:
            self.profiler = start_profiler(self.pid, self.profile_path)
        return self

    def stop(self) -> None:
        """SIGTERM (a graceful stop, as in production), then SIGKILL if it hangs."""
        if self.profiler is not None:
            stop_profiler(self.profiler)
            self.profiler = None
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_profiler(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling the server (collapsed stacks, all threads, idle frames left out);
    BENCH_PY_SPY_ARGS adds py-spy options (e.g. `--native` for C frames, `--gil`)."""
    py_spy = Path(sys.executable).with_name("py-spy")
    if not py_spy.exists():
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install -e '.[dev]'")
    output.parent.mkdir(parents=True, exist_ok=True)
    profiler = subprocess.Popen(
        [
            str(py_spy),
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "250",
            "--threads",
            *shlex.split(os.environ.get("BENCH_PY_SPY_ARGS", "")),
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # let it attach before the first measured call
    return profiler


def stop_profiler(profiler: subprocess.Popen[bytes]) -> None:
    """SIGINT makes py-spy write its file and exit."""
    profiler.send_signal(signal.SIGINT)
    try:
        profiler.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        profiler.kill()
        profiler.wait()


def settle_disk() -> None:
    """Write out dirty pages before a timed step.

    Each init or seeding step leaves hundreds of MB of written pages that the
    kernel flushes in the background; on a small machine that writeback would
    land in (and slow down) whichever measurement comes next. A step's own
    writes and its commit are still timed.
    """
    os.sync()


def server_environment(*, data_dir: Path, database_url: str | None) -> dict[str, str]:
    """The process environment of the server and the command line: ours, minus
    any ANNOTATION_API_* of the caller's shell, plus the bench's settings.

    Logs stay at INFO, as deployed (one line per request)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATION_API_")}
    env.update(
        {
            "ANNOTATION_API_DATA_DIR": str(data_dir),
            "ANNOTATION_API_HOST": "127.0.0.1",
            "ANNOTATION_API_LOG_LEVEL": "INFO",
            "ANNOTATION_API_CALLBACK_SECRET": "bench-callback-secret",
        }
    )
    if database_url:
        env["ANNOTATION_API_DATABASE_URL"] = database_url
    return env
