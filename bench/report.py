"""The markdown report (docs/benchmarks.md) of one bench run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.plan import CONSENSUS_EXPORT, EXPORT_FORMATS, IMPORT_FORMATS, Plan
from bench.stats import Figure, Results
from bench.targets import CALL_LABELS, MB, Verdict

FINDINGS = Path(__file__).with_name("findings.md")

SECTIONS = (
    "## How to run",
    "## Machine",
    "## Targets",
    "## Raw engine",
    "## Init",
    "## Progress",
    "## Export",
    "## Prediction import",
    "## Prediction import memory",
    "## Annotation loop",
    "## Cost of a call",
    "## Webhooks",
    "## Annotation import",
    "## Live progress",
    "## Method",
    "## Profiles and fixes",
)


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _spread(figure: Figure) -> str:
    """median (min–max)"""
    return f"{_num(figure.median)} ({_num(figure.low)}–{_num(figure.high)})"


def _mb(value: int | None) -> str:
    return "–" if value is None else f"{value / MB:,.0f}"


def _memory(figure: Figure) -> list[str]:
    return [
        f"{_mb(figure.rss_before)} → {_mb(figure.rss_after)}",
        _mb(figure.rss_peak),
        _mb(figure.rss_growth),
        "–" if figure.server_cpu is None else _num(figure.server_cpu),
    ]


MEMORY_HEADERS = ["server RSS before → after (MB)", "peak (MB)", "growth (MB)", "server CPU (s)"]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _ratio(figure: Figure, raw: Figure | None) -> str:
    return "–" if raw is None else f"{figure.median / raw.median:,.1f}×"


def _targets(verdicts: Sequence[Verdict]) -> list[str]:
    return _table(
        ["target", "measured", "verdict"], [[v.target, v.measured, v.label] for v in verdicts]
    )


def _raw(results: Results, plan: Plan) -> list[str]:
    rows = []
    for size in plan.init_sizes:
        if figure := results.get(f"raw.insert.{size}"):
            rows.append(
                [
                    f"executemany of {size:,} task rows (one transaction)",
                    _spread(figure) + " s",
                    f"{size / figure.median:,.0f} rows/s",
                ]
            )
    for size in plan.export_sizes:
        if figure := results.get(f"raw.insert_annotated.{size}"):
            rows.append(
                [
                    f"executemany of {size:,} tasks + {size:,} annotations (1 run)",
                    _spread(figure) + " s",
                    f"{size / figure.median:,.0f} tasks/s",
                ]
            )
        if figure := results.get(f"raw.export.{size}"):
            rows.append(
                [
                    f"SELECT + orjson stream of {size:,} records to a file",
                    _spread(figure) + " s",
                    f"{figure.facts.get('file_bytes', 0) / MB:,.0f} MB file",
                ]
            )
    size = plan.import_predictions
    if figure := results.get(f"raw.import.{size}"):
        rows.append(
            [f"orjson parse + executemany of {size:,} predictions", _spread(figure) + " s", ""]
        )
    if figure := results.get("raw.progress.p50"):
        rows.append(["progress counter queries, p50 of one call", _spread(figure) + " ms", ""])
    return _table(["raw engine (stdlib sqlite3 + orjson)", "median (min–max)", ""], rows)


def _idle_rss(results: Results, plan: Plan) -> list[str]:
    rows = [
        [f"{size:,}", ", ".join(f"{value:.0f}" for value in figure.values)]
        for size in plan.init_sizes
        if (figure := results.get(f"init.idle_rss.{size}")) is not None
    ]
    return _table(["tasks", "server RSS (MB) idle after each round of the three inits"], rows)


def _init(results: Results, plan: Plan) -> list[str]:
    rows = []
    for size in plan.init_sizes:
        raw = results.get(f"raw.insert.{size}")
        grpc = results.get(f"init.grpc.{size}")
        for transport, via in (("rest", "REST"), ("grpc", "gRPC"), ("grpc_stream", "gRPC stream")):
            figure = results.get(f"init.{transport}.{size}")
            if figure is None:
                continue
            ratio = f"{figure.median / grpc.median:.2f}" if transport == "rest" and grpc else ""
            rows.append(
                [
                    f"{size:,}",
                    via,
                    _spread(figure),
                    f"{size / figure.median:,.0f}",
                    _ratio(figure, raw),
                    ratio,
                    *_memory(figure),
                ]
            )
    return _table(
        [
            "tasks",
            "via",
            "seconds, median (min–max)",
            "tasks/s",
            "× raw insert",
            "REST/gRPC",
            *MEMORY_HEADERS,
        ],
        rows,
    )


def _progress(results: Results, plan: Plan) -> list[str]:
    raw = results.get("raw.progress.p50")
    rows = []
    for transport, name in (
        ("rest", "REST (httpx)"),
        ("rest_minimal", "REST (minimal HTTP/1.1 client)"),
        ("grpc", "gRPC"),
    ):
        p50 = results.get(f"progress.{transport}.p50")
        p99 = results.get(f"progress.{transport}.p99")
        cpu = results.get(f"progress.{transport}.client_cpu")
        if p50 is not None and p99 is not None:
            row = [f"{name}, one call at a time", _spread(p50), _spread(p99), ""]
            row += [_num(cpu.median) if cpu else "–", _ratio(p50, raw)]
            rows.append([*row, *_memory(p50)])
    for transport, name in (("rest", "REST (httpx)"), ("grpc", "gRPC")):
        rate = results.get(f"progress.{transport}.throughput")
        if rate is not None:
            row = [f"{name}, {plan.in_flight} in flight", "", "", _spread(rate), "", ""]
            rows.append([*row, *_memory(rate)])
    headers = ["progress", "p50 ms, median (min–max)", "p99 ms", "calls/s"]
    headers += ["client CPU ms/call", "p50 × raw"]
    return _table([*headers, *MEMORY_HEADERS], rows)


def _quality(results: Results) -> list[str]:
    rows = []
    for name, title in (("agreement", "GetAgreement"), ("report", "GetQualityReport")):
        for transport, via in (("rest", "REST (httpx)"), ("grpc", "gRPC")):
            p50 = results.get(f"quality.{name}.{transport}.p50")
            p99 = results.get(f"quality.{name}.{transport}.p99")
            if p50 is not None and p99 is not None:
                rows.append([f"{title}, {via}", _spread(p50), _spread(p99), *_memory(p50)])
    headers = ["read", "p50 ms, median (min–max)", "p99 ms"]
    return _table([*headers, *MEMORY_HEADERS], rows)


def _exports(results: Results, plan: Plan) -> list[str]:
    rows = []
    for size in plan.export_sizes:
        raw = results.get(f"raw.export.{size}")
        for file_format in (*EXPORT_FORMATS, CONSENSUS_EXPORT):
            figure = results.get(f"export.{file_format}.{size}")
            if figure is None:
                continue
            rows.append(
                [
                    f"{size:,}",
                    file_format,
                    _spread(figure),
                    f"{size / figure.median:,.0f}",
                    f"{figure.facts.get('file_bytes', 0) / MB:,.1f}",
                    _ratio(figure, raw),
                    *_memory(figure),
                ]
            )
    return _table(
        [
            "tasks",
            "format",
            "seconds, median (min–max)",
            "tasks/s",
            "file (MB)",
            "× raw export",
            *MEMORY_HEADERS,
        ],
        rows,
    )


def _imports(results: Results, plan: Plan) -> list[str]:
    size = plan.import_predictions
    raw = results.get(f"raw.import.{size}")
    rows = []
    for file_format in IMPORT_FORMATS:
        figure = results.get(f"import.{file_format}.{size}")
        if figure is None:
            continue
        rows.append(
            [
                f"{size:,}",
                file_format,
                _spread(figure),
                f"{size / figure.median:,.0f}",
                f"{figure.facts.get('file_bytes', 0) / MB:,.1f}",
                _ratio(figure, raw),
                *_memory(figure),
            ]
        )
    return _table(
        [
            "predictions",
            "format",
            "seconds, median (min–max)",
            "predictions/s",
            "file (MB)",
            "× raw import",
            *MEMORY_HEADERS,
        ],
        rows,
    )


def _import_memory(results: Results, plan: Plan) -> list[str]:
    rows = []
    for size in plan.import_memory_sizes:
        figure = results.get(f"import.memory.{size}")
        if figure is None:
            continue
        rows.append(
            [
                f"{size:,}",
                f"{figure.facts.get('file_bytes', 0) / MB:,.1f}",
                _spread(figure),
                _ratio(figure, results.get(f"raw.import.{size}")),
                *_memory(figure),
            ]
        )
    return _table(
        [
            "predictions",
            "file (MB)",
            "seconds, median (min–max)",
            "× raw import",
            *MEMORY_HEADERS,
        ],
        rows,
    )


def _annotation_import(results: Results, plan: Plan) -> list[str]:
    size = plan.annotation_import
    figure = results.get(f"annotation_import.label_studio_json.{size}")
    rows = []
    if figure is not None:
        rows.append(
            [
                f"{size:,}",
                f"{figure.facts.get('file_bytes', 0) / MB:,.1f}",
                _spread(figure),
                f"{size / figure.median:,.0f}",
                *_memory(figure),
            ]
        )
    return _table(
        [
            "annotated tasks",
            "file (MB)",
            "seconds, median (min–max)",
            "tasks/s",
            *MEMORY_HEADERS,
        ],
        rows,
    )


def _loop(results: Results) -> list[str]:
    rows = []
    for name, label in (
        ("next_task", "NextTask"),
        ("get_task", "GetTask"),
        ("submit", "SubmitAnnotation"),
    ):
        figure = results.get(f"loop.{name}.p50")
        if figure is not None:
            rows.append([label, _spread(figure), *_memory(figure)])
    return _table(["call", "p50 ms, median (min–max)", *MEMORY_HEADERS], rows)


def _calls(results: Results) -> list[str]:
    rows = []
    for kind, label in (*CALL_LABELS.items(), ("progress", "GetProgress")):
        cpu = results.get(f"calls.{kind}.cpu")
        statements = results.get(f"calls.{kind}.statements")
        if cpu is not None:
            rows.append([label, _num(statements.median) if statements else "–", _spread(cpu)])
    lines = _table(["call", "SQL statements", "server CPU ms, median (min–max)"], rows)
    rates = [
        [f"{clients}", _spread(figure)]
        for clients in (1, 8)
        if (figure := results.get(f"calls.throughput.{clients}")) is not None
    ]
    if rates:
        lines += ["", *_table(["clients", "workflow calls/s, median (min–max)"], rates)]
    scaling = [
        [
            str(figure.facts["workers"]),
            str(figure.facts["cores"]),
            _spread(figure),
            _spread(apart) if (apart := results.get(f"{key}.projects")) is not None else "–",
        ]
        for workers in range(1, 257)
        if (figure := results.get(key := f"scaling.workers.{workers}")) is not None
    ]
    if scaling:
        lines += [
            "",
            "`serve --workers N` (bench/scenarios/scaling.py): workflow calls/s, median "
            "(min–max), from 8 clients, each on a connection of its own, working their "
            "queues; on SQLite the writes stay serialized through the database file.",
            "",
            *_table(["workers", "cores", "one project", "a project per client"], scaling),
        ]
    return lines


def _watch(results: Results) -> list[str]:
    rows = []
    for transport, label in (("grpc", "gRPC WatchProgress"), ("sse", "Server-Sent Events")):
        p50 = results.get(f"watch.{transport}.p50")
        p99 = results.get(f"watch.{transport}.p99")
        if p50 is None or p99 is None:
            continue
        cells = [
            _spread(figure) if (figure := results.get(f"watch.{transport}.{key}")) else "–"
            for key in ("rss_per_watcher", "open_cpu_per_watcher", "idle_cpu_per_watcher",
                        "cpu_per_message")
        ]  # fmt: skip
        rows.append([label, _spread(p50), _spread(p99), *cells])
    return _table(
        [
            "transport",
            "submit → update p50 ms",
            "p99 ms",
            "RSS KiB / watcher",
            "CPU ms to open / watcher",
            "idle CPU ms/s / watcher",
            "CPU ms / message",
        ],
        rows,
    )


def _webhooks(results: Results) -> list[str]:
    rows = [
        [label, _spread(figure)]
        for name, label in (("none", "no webhook"), ("three", "3 webhooks"))
        if (figure := results.get(f"webhooks.submit.{name}.cpu")) is not None
    ]
    if (extra := results.get("webhooks.submit.extra")) is not None:
        rows.append(["3 webhooks − none, per run", _spread(extra)])
    return _table(["SubmitAnnotation", "server CPU ms, median (min–max)"], rows)


METHOD = """\
* **Server.** `annotation-api serve` (gRPC server and REST gateway in one process, the
  default deployment) started by the bench as a separate process on free ports, INFO logs
  to a file, with the database of the run: a SQLite file in a temporary directory, or the
  PostgreSQL database given with `--database-url`. The admin and its token are created with
  `annotation-api users create` / `tokens create`. Each group of figures gets a fresh server
  process ({groups}), so that one figure's memory does not hide in pages an earlier one
  left behind.
* **Clients.** REST: httpx (HTTP/1.1, keep-alive), bodies serialized before the clock
  starts. gRPC: the generated stubs on one grpc.aio channel (the stub serializes the
  request inside the measured time). The clients run on the same machine and share its
  cores with the server. Times are wall-clock seconds at the client, from sending the
  request to having the whole answer.
* **Runs.** Every figure is measured `--runs` times (3 by default); the tables show the
  median, min and max. REST and gRPC runs alternate. Progress latency is the p50 / p99 of
  {calls} sequential calls per run; throughput is {throughput} calls with {in_flight} in
  flight. Before measuring, each server gets a small untimed call of each kind, and
  before every timed step the bench flushes dirty pages (`os.sync()`), so the background
  writeback of an earlier step's data does not land in the next measurement.
* **Memory.** Linux' high-water mark of the server process (`VmHWM` in
  `/proc/<pid>/status`) is reset before each run (`echo 5 > /proc/<pid>/clear_refs`), so
  *peak* is that run's own peak; *before*/*after* are the RSS at the start of the first
  run and at the end of the last; *growth* is the largest (peak − RSS at the start) of the
  runs. Server CPU is user + system seconds of the server process per run (median).
* **Data.** Init: text_classification tasks with a Chinese sentence, an external id and a
  small metadata object, three labels. Progress: a project of {progress:,} tasks created by
  an (untimed) gRPC init, then made ready over gRPC; three annotators get 100 tasks each,
  start 50 and submit 25. Export: object_detection projects whose tasks all carry one
  annotation of two rectangles (with the image's pixel size); they are written straight
  into the database before the export server starts, with the storage layer's bulk insert
  (`storage.bulk.insert_many`, the path InitProject uses; `bench/seed.py`), because a
  million SubmitAnnotation calls would take far longer than the export being measured.
  Prediction import: projects created over gRPC; an AAP JSON file (one bbox per task,
  matched by display_id) and a COCO file (matched by image file name), posted as
  multipart/form-data.
* **Raw engine.** In the bench process, on a SQLite file with the service's schema
  (same migrations and indexes) and settings (WAL, synchronous=NORMAL, foreign keys):
  stdlib `sqlite3` `executemany` of the same task rows in one transaction; a SELECT of the
  same annotated tasks streamed as JSON records with orjson to a file; orjson parse of the
  same AAP file and `executemany` of its rows; the progress counter queries. "× raw" is the
  service's median divided by the raw engine's median for the same rows (for export, every
  format is compared with the raw json stream).
"""


def render(
    *,
    results: Results,
    plan: Plan,
    runs: int,
    command: str,
    machine: dict[str, str],
    verdicts: Sequence[Verdict],
    started: datetime,
    finished: datetime,
    load_at_end: str,
) -> str:
    findings = FINDINGS.read_text() if FINDINGS.exists() else "No profile was needed.\n"
    minutes = (finished - started).total_seconds() / 60
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{command}` on {finished.astimezone(UTC):%Y-%m-%d %H:%M} UTC "
        f"(size `{plan.name}`, {runs} runs per figure, {minutes:.1f} minutes). "
        "Every figure below comes from that one run; do not edit by hand.",
        "",
        "## How to run",
        "",
        "```",
        ".venv/bin/python -m bench --size full             # SQLite in a temporary directory",
        ".venv/bin/python -m bench --size full --database-url postgresql+asyncpg://user:pw@host/db",
        ".venv/bin/python -m bench --size smoke --output /tmp/bench.md   # a few seconds",
        "```",
        "",
        "Options: `--runs N` (default 3), `--output PATH` (default docs/benchmarks.md), "
        "`--json PATH` (the raw figures), `--keep` (keep the temporary directory and the "
        "server log). Run it on a quiet machine: the clients, the server and the raw engine "
        "share its cores.",
        "",
        "## Machine",
        "",
        *_table(
            ["", ""], [[k, v] for k, v in machine.items()] + [["load average at end", load_at_end]]
        ),
        "",
        "## Targets",
        "",
        *_targets(verdicts),
        "",
        "## Raw engine",
        "",
        *_raw(results, plan),
        "",
        "## Init",
        "",
        "`POST /api/external/projects/init` (REST), `ProjectService.InitProject` (gRPC) and "
        "`ProjectService.InitProjectStream` (gRPC stream, 10,000 tasks a message), "
        "one request of N tasks; × raw = time / raw engine's insert of the same rows.",
        "",
        *_init(results, plan),
        "",
        *_idle_rss(results, plan),
        "",
        "## Progress",
        "",
        f"`GET /api/external/projects/{{id}}/progress` and `ProjectService.GetProgress` on a "
        f"project of {plan.progress_tasks:,} tasks with three annotators.",
        "",
        *_progress(results, plan),
        "",
        "Agreement and quality reads on the same project (`GET /api/v1/projects/{id}/agreement`, "
        "`GET /api/v1/projects/{id}/quality`), after 25 overlapping answers and 10 "
        "ground-truth tasks: both read the score sums, never the tasks.",
        "",
        *_quality(results),
        "",
        "## Export",
        "",
        "`POST /api/external/projects/{id}/export` (completed tasks; the file is written before "
        "the answer). × raw = time / raw engine's json stream of the same records.",
        "",
        *_exports(results, plan),
        "",
        "## Prediction import",
        "",
        "`POST /api/v1/projects/{id}/predictions/import` (multipart upload through the gateway, "
        "client stream to the server), one prediction per task.",
        "",
        *_imports(results, plan),
        "",
        "## Prediction import memory",
        "",
        "The same route with AAP files of growing size (one bbox per task, matched by "
        "external_id), each into a project of as many tasks, on a fresh server: the file is "
        "read as a stream, so the server's RSS growth should not follow the file's size.",
        "",
        *_import_memory(results, plan),
        "",
        "## Annotation loop",
        "",
        f"One annotator's cycle over gRPC on a project of {plan.loop_tasks:,} tasks split "
        f"between {plan.loop_annotators} annotators (AssignTasks `count`): NextTask, GetTask, "
        f"(StartTask,) SubmitAnnotation; p50 of {plan.loop_calls} cycles per run.",
        "",
        *_loop(results),
        "",
        "## Cost of a call",
        "",
        f"A project of {plan.calls_tasks:,} tasks split between 9 annotators. SQL statements "
        "per RPC as an in-process server's engine sees them, with the token cache warm "
        "(a cold token adds one lookup) "
        "(`before_cursor_execute`); the server process's CPU over "
        f"{plan.calls_per_kind} calls of one kind, one at a time; workflow calls per second "
        "from 1 and 8 clients, each an annotator working their own queue (NextTask, GetTask, "
        f"StartTask, SubmitAnnotation; {plan.calls_throughput} calls per run).",
        "",
        *_calls(results),
        "",
        "## Webhooks",
        "",
        "The server's CPU per SubmitAnnotation with no webhook and with three webhooks of the "
        f"project registered ({plan.calls_per_kind} submits of each per run, alternating); the "
        "outbox is not polled meanwhile, so the figure is the cost of writing the events in "
        "the submit's transaction, not of sending them.",
        "",
        *_webhooks(results),
        "",
        "## Annotation import",
        "",
        "`POST /api/v1/projects/{id}/annotations/import` (format label_studio_json): a Label "
        "Studio export of N tasks, one submitted annotation with one rectangle each, matched "
        "by data.image, imported into a fresh project of N tasks per run (created untimed) and "
        "attributed to one annotator; every task is completed.",
        "",
        *_annotation_import(results, plan),
        "",
        "## Live progress",
        "",
        f"{plan.watchers:,} watchers of one project per transport (gRPC on 10 channels; "
        "Server-Sent Events, one HTTP connection each) while 8 clients start and submit "
        f"{plan.watch_submits} tasks each over gRPC. Latency: from the k-th submit's answer "
        "to each watcher's first state with at least k completed tasks, over every (watcher, "
        "submit) pair; states are coalesced to one per 250 ms. RSS per watcher: the server's "
        "RSS growth as they open; idle CPU: the server's CPU while nothing changes (heartbeats, "
        "token checks).",
        "",
        *_watch(results),
        "",
        "## Method",
        "",
        METHOD.format(
            calls=plan.progress_calls,
            throughput=plan.throughput_calls,
            in_flight=plan.in_flight,
            progress=plan.progress_tasks,
            groups="each init size, progress, "
            + ("each export size × format" if plan.server_per_export_format else "each export size")
            + ", prediction import, annotation loop, cost of a call, annotation import",
        ),
        "## Profiles and fixes",
        "",
        findings.rstrip(),
        "",
    ]
    return "\n".join(lines)
