"""The targets the service is held to, checked against one run's figures."""

from __future__ import annotations

from dataclasses import dataclass

from bench.plan import EXPORT_FORMATS
from bench.stats import Results

MB = 1_000_000
RSS_GROWTH_LIMIT = 100 * MB
RATIO_LIMIT = 1.5
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


def _ratio(results: Results, target: str, rest_key: str, grpc_key: str) -> Verdict:
    rest, grpc = results.get(rest_key), results.get(grpc_key)
    if rest is None or grpc is None:
        return Verdict(target, "–", None)
    ratio = rest.median / grpc.median
    return Verdict(
        target,
        f"{ratio:.2f} ({rest.median:.3g} / {grpc.median:.3g} {rest.unit})",
        ratio <= RATIO_LIMIT,
    )


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
    target = "export: server RSS growth ≤ 100 MB, every format and size"
    return _worst_growth(results, target, labels, RSS_GROWTH_LIMIT, what="exports")


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
    for file_format in ("json", "coco"):
        verdicts.append(
            _at_most(
                results,
                f"export 1,000,000 tasks as {file_format} ≤ 30 s",
                f"export.{file_format}.1000000",
                30,
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
    for size in init_sizes:
        verdicts.append(
            _ratio(
                results,
                f"REST/gRPC ≤ 1.5 for init of {size:,}",
                f"init.rest.{size}",
                f"init.grpc.{size}",
            )
        )
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
    return verdicts
