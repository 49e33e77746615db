"""The targets the service is held to, checked against one run's figures."""

from __future__ import annotations

from dataclasses import dataclass

from bench.plan import EXPORT_FORMATS
from bench.stats import Results

MB = 1_000_000
# exports: the server and its format process together (bench/scenarios/exports.py)
EXPORT_RSS_GROWTH_LIMIT = 50 * MB
RATIO_LIMIT = 1.5
INIT_RATIO_LIMIT = 1.2
INIT_RSS_GROWTH_LIMIT = 300 * MB
IDLE_RSS_CLIMB_LIMIT = 50 * MB
IMPORT_RSS_GROWTH_LIMIT = 150 * MB


@dataclass(frozen=True, slots=True)
class Verdict:
    target: str
    measured: str
    met: bool | None  # None: not measured at this size

    @property
    def label(self) -> str:
        return {True: "met", False: "**not met**", None: "not measured at this size"}[self.met]


def _at_most(results: Results, target: str, key: str, limit: float, unit: str) -> Verdict:
    figure = results.get(key)
    if figure is None:
        return Verdict(target, "–", None)
    return Verdict(target, f"{figure.median:.3g} {unit} (median)", figure.median <= limit)


def _ratio(
    results: Results, target: str, rest_key: str, grpc_key: str, limit: float = RATIO_LIMIT
) -> Verdict:
    rest, grpc = results.get(rest_key), results.get(grpc_key)
    if rest is None or grpc is None:
        return Verdict(target, "–", None)
    ratio = rest.median / grpc.median
    return Verdict(
        target,
        f"{ratio:.2f} ({rest.median:.3g} / {grpc.median:.3g} {rest.unit})",
        ratio <= limit,
    )


def _init_memory(results: Results, sizes: tuple[int, ...]) -> list[Verdict]:
    """RSS growth over the REST and streamed inits; idle RSS from the first round to the last."""
    verdicts = []
    for size in sizes:
        measured = [
            (figure.rss_growth, via)
            for via in ("rest", "grpc_stream")
            if (figure := results.get(f"init.{via}.{size}")) is not None
            and figure.rss_growth is not None
        ]
        target = f"init of {size:,}: server RSS growth ≤ 300 MB (REST, gRPC stream)"
        if measured:
            worst, via = max(measured)
            verdicts.append(
                Verdict(
                    target, f"worst {worst / MB:.0f} MB ({via})", worst <= INIT_RSS_GROWTH_LIMIT
                )
            )
        else:
            verdicts.append(Verdict(target, "–", None))
        idle = results.get(f"init.idle_rss.{size}")
        target = f"init of {size:,}: idle RSS after the last round ≤ after the first + 50 MB"
        if idle is None or len(idle.values) < 2:
            verdicts.append(Verdict(target, "–", None))
            continue
        climb = (idle.values[-1] - idle.values[0]) * MB  # the figure is in MB
        verdicts.append(
            Verdict(
                target,
                f"{idle.values[0]:.0f} → {idle.values[-1]:.0f} MB",
                climb <= IDLE_RSS_CLIMB_LIMIT,
            )
        )
    return verdicts


def _worst_growth(
    results: Results, target: str, labels: dict[str, str], limit: int, *, what: str
) -> Verdict:
    """The largest server RSS growth of the figures `labels` names (key -> label)."""
    measured = [
        (figure.rss_growth, label)
        for key, label in labels.items()
        if (figure := results.get(key)) is not None and figure.rss_growth is not None
    ]
    if not measured:
        return Verdict(target, "–", None)
    worst, where = max(measured)
    return Verdict(
        target, f"worst {worst / MB:.0f} MB ({where}) of {len(measured)} {what}", worst <= limit
    )


def _export_memory(results: Results, sizes: tuple[int, ...]) -> Verdict:
    labels = {
        f"export.{file_format}.{size}": f"{file_format} {size:,}"
        for size in sizes
        for file_format in EXPORT_FORMATS
    }
    target = "export: server + format process RSS growth ≤ 50 MB, every format and size"
    return _worst_growth(results, target, labels, EXPORT_RSS_GROWTH_LIMIT, what="exports")


def _import_memory(results: Results, sizes: tuple[int, ...]) -> Verdict:
    labels = {f"import.memory.{size}": f"{size:,} predictions" for size in sizes}
    target = "import: server RSS growth ≤ 150 MB at every file size"
    return _worst_growth(results, target, labels, IMPORT_RSS_GROWTH_LIMIT, what="imports")


def check_targets(
    results: Results,
    *,
    init_sizes: tuple[int, ...],
    export_sizes: tuple[int, ...],
    import_memory_sizes: tuple[int, ...] = (),
) -> list[Verdict]:
    verdicts = [
        _at_most(results, "init 100,000 tasks through REST ≤ 1.5 s", "init.rest.100000", 1.5, "s"),
        _at_most(results, "init 1,000,000 tasks through REST ≤ 15 s", "init.rest.1000000", 15, "s"),
        _at_most(results, "init 1,000,000 tasks through REST ≤ 8 s", "init.rest.1000000", 8, "s"),
        _at_most(
            results, "import 100,000 predictions (AAP JSON) ≤ 3 s", "import.aap_json.100000", 3, "s"
        ),
        _at_most(results, "import 100,000 predictions (COCO) ≤ 3 s", "import.coco.100000", 3, "s"),
        _at_most(
            results,
            "import 1,000,000 predictions (AAP JSON) ≤ 12 s",
            "import.memory.1000000",
            12,
            "s",
        ),
        _import_memory(results, import_memory_sizes),
        _at_most(
            results,
            "import 100,000 annotated tasks ≤ 5 s",
            "annotation_import.label_studio_json.100000",
            5,
            "s",
        ),
    ]
    for file_format in ("json", "coco"):
        verdicts.append(
            _at_most(
                results,
                f"export 100,000 tasks as {file_format} ≤ 3 s",
                f"export.{file_format}.100000",
                3,
                "s",
            )
        )
    for file_format, seconds in (("json", 7), ("coco", 12)):
        verdicts.append(
            _at_most(
                results,
                f"export 1,000,000 tasks as {file_format} ≤ {seconds} s",
                f"export.{file_format}.1000000",
                seconds,
                "s",
            )
        )
    verdicts.append(_export_memory(results, export_sizes))
    for transport in ("rest", "grpc"):
        name = "REST" if transport == "rest" else "gRPC"
        verdict = _at_most(
            results,
            f"progress p50 ≤ 10 ms on 1,000,000 tasks ({name})",
            f"progress.{transport}.p50",
            10,
            "ms",
        )
        if results.figure("progress.rest.p50").facts.get("tasks") != 1_000_000:
            verdict = Verdict(verdict.target, verdict.measured, None)
        verdicts.append(verdict)
    for name, title in (("agreement", "GetAgreement"), ("report", "GetQualityReport")):
        for transport in ("rest", "grpc"):
            via = "REST" if transport == "rest" else "gRPC"
            verdict = _at_most(
                results,
                f"{title} p50 ≤ 50 ms on 1,000,000 tasks ({via})",
                f"quality.{name}.{transport}.p50",
                50,
                "ms",
            )
            if results.figure("quality.agreement.rest.p50").facts.get("tasks") != 1_000_000:
                verdict = Verdict(verdict.target, verdict.measured, None)
            verdicts.append(verdict)
    for size in init_sizes:
        verdicts.append(
            _ratio(
                results,
                f"REST/gRPC ≤ 1.2 for init of {size:,}",
                f"init.rest.{size}",
                f"init.grpc.{size}",
                INIT_RATIO_LIMIT,
            )
        )
    verdicts.extend(_init_memory(results, init_sizes))
    verdicts.append(
        _ratio(
            results,
            "REST/gRPC ≤ 1.5 for progress (p50), REST through httpx",
            "progress.rest.p50",
            "progress.grpc.p50",
        )
    )
    # The same target without the client library's own cost (see the Progress table).
    verdicts.append(
        _ratio(
            results,
            "REST/gRPC ≤ 1.5 for progress (p50), REST through a minimal HTTP/1.1 client",
            "progress.rest_minimal.p50",
            "progress.grpc.p50",
        )
    )
    verdicts.extend(_call_targets(results))
    return verdicts


# The calls group (bench.scenarios.calls): server CPU per call and workflow throughput.
WORKFLOW_CALL_CPU_MS = 1.5
PROGRESS_CPU_MS = 1.0
WORKFLOW_CALLS_PER_SECOND = 500
CALL_LABELS = {
    "next_task": "NextTask",
    "get_task": "GetTask",
    "start_task": "StartTask",
    "submit": "SubmitAnnotation",
    # a reviewer's calls cost no more than an annotator's
    "next_review": "NextReview",
    "review": "ReviewAnnotation",
}


def _call_targets(results: Results) -> list[Verdict]:
    verdicts = [
        _at_most(
            results,
            f"{label}: server CPU ≤ {WORKFLOW_CALL_CPU_MS} ms per call",
            f"calls.{kind}.cpu",
            WORKFLOW_CALL_CPU_MS,
            "ms",
        )
        for kind, label in CALL_LABELS.items()
    ]
    verdicts.append(
        _at_most(
            results,
            f"GetProgress: server CPU ≤ {PROGRESS_CPU_MS} ms per call",
            "calls.progress.cpu",
            PROGRESS_CPU_MS,
            "ms",
        )
    )
    verdicts.append(_webhook_target(results))
    figure = results.get("calls.throughput.8")
    target = f"workflow calls/s from 8 clients ≥ {WORKFLOW_CALLS_PER_SECOND}"
    if figure is None:
        verdicts.append(Verdict(target, "–", None))
    else:
        verdicts.append(
            Verdict(
                target,
                f"{figure.median:.3g} calls/s (median)",
                figure.median >= WORKFLOW_CALLS_PER_SECOND,
            )
        )
    return verdicts


# The webhooks group (bench.scenarios.webhooks): what three webhooks add to a submit.
WEBHOOK_SUBMIT_EXTRA_MS = 0.3


def _webhook_target(results: Results) -> Verdict:
    target = f"SubmitAnnotation with 3 webhooks: server CPU ≤ +{WEBHOOK_SUBMIT_EXTRA_MS} ms"
    none = results.get("webhooks.submit.none.cpu")
    three = results.get("webhooks.submit.three.cpu")
    extra = results.get("webhooks.submit.extra")
    if none is None or three is None or extra is None:
        return Verdict(target, "–", None)
    return Verdict(
        target,
        f"{extra.median:+.3f} ms, median of the runs' paired differences "
        f"({none.median:.3f} → {three.median:.3f} ms)",
        extra.median <= WEBHOOK_SUBMIT_EXTRA_MS,
    )
