"""The benchmark suite at its smoke size, so that it cannot rot.

It runs `python -m bench --size smoke` as an operator would (a real
`annotation-api serve` process, REST and gRPC clients, the raw engine) and
checks that the report has every section and every figure. Timings are never
asserted: they belong to docs/benchmarks.md, not to tests.

One run per figure, on SQLite only, keeps it to about 25 seconds of the
default suite. On PostgreSQL the bench differs only in the URL it hands to
`serve` (`--database-url`; the raw engine is SQLite either way); the server's PostgreSQL
paths are covered by the rest of the suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from bench.plan import CONSENSUS_EXPORT, EXPORT_FORMATS, IMPORT_FORMATS, PLANS
from bench.report import SECTIONS

ROOT = Path(__file__).resolve().parents[2]
RUNS = 1


@pytest.fixture
def bench_database_url(db_engine: str) -> str | None:
    """None: the bench's own SQLite file (the only engine this smoke test runs on)."""
    if db_engine == "postgresql":
        pytest.skip("the bench smoke test runs on SQLite only (see the module docstring)")
    return None


def expected_figures() -> list[str]:
    plan = PLANS["smoke"]
    keys = ["raw.progress.p50"]
    for size in plan.init_sizes:
        keys += [f"raw.insert.{size}", f"init.rest.{size}", f"init.grpc.{size}"]
    for transport in ("rest", "grpc"):
        keys += [f"progress.{transport}.{name}" for name in ("p50", "p99", "throughput")]
    keys += ["progress.rest_minimal.p50", "progress.rest_minimal.p99"]
    keys += [f"progress.{name}.client_cpu" for name in ("rest", "rest_minimal", "grpc")]
    for size in plan.export_sizes:
        formats = (*EXPORT_FORMATS, CONSENSUS_EXPORT)
        keys += [f"raw.export.{size}", *(f"export.{f}.{size}" for f in formats)]
    size = plan.import_predictions
    keys += [f"raw.import.{size}", *(f"import.{f}.{size}" for f in IMPORT_FORMATS)]
    keys += [f"import.memory.{size}" for size in plan.import_memory_sizes]
    keys += [f"loop.{name}.p50" for name in ("next_task", "get_task", "submit")]
    keys.append(f"annotation_import.label_studio_json.{plan.annotation_import}")
    keys += [
        f"calls.{kind}.cpu"
        for kind in ("next_task", "get_task", "start_task", "submit", "progress")
    ]
    keys += [f"calls.{kind}.cpu" for kind in ("next_review", "review")]
    for transport in ("grpc", "sse"):
        keys += [f"watch.{transport}.p50", f"watch.{transport}.p99"]
    keys += [f"webhooks.submit.{name}.cpu" for name in ("none", "three")]
    keys += [f"scaling.workers.{n}{layout}" for n in (1, 2) for layout in ("", ".projects")]
    return keys


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_smoke_run_writes_every_section_and_figure(
    tmp_path: Path, bench_database_url: str | None
) -> None:
    report, figures = tmp_path / "benchmarks.md", tmp_path / "figures.json"
    command = [sys.executable, "-m", "bench", "--size", "smoke", "--runs", str(RUNS)]
    command += ["--output", str(report), "--json", str(figures)]
    if bench_database_url:
        command += ["--database-url", bench_database_url]

    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280)

    assert done.returncode == 0, done.stderr[-4000:]
    text = report.read_text()
    for heading in SECTIONS:
        assert f"\n{heading}\n" in text, heading
    assert "PostgreSQL" in text if bench_database_url else "SQLite" in text
    measured = orjson.loads(figures.read_bytes())
    for key in expected_figures():
        figure = measured[key]
        assert len(figure["values"]) == RUNS, key
        if not key.startswith(("raw.", "scaling.")) and not key.endswith(".client_cpu"):
            # a figure of the server: its memory per run
            assert len(figure["memory"]) == RUNS, key
            assert all(m["peak"] >= m["before"] > 0 for m in figure["memory"]), key
