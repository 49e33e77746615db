"""Figures: one value per run, summarised as median, min and max, plus the
server's memory over those runs."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.process import MemoryUse


@dataclass
class Figure:
    """One measured quantity (e.g. "REST init of 100,000 tasks", seconds)."""

    key: str
    unit: str
    values: list[float] = field(default_factory=list)
    memory: list[MemoryUse] = field(default_factory=list)
    # Facts of the runs that are not timings (file size, rows written...).
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, value: float, memory: MemoryUse | None = None) -> None:
        self.values.append(value)
        if memory is not None:
            self.memory.append(memory)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def rss_before(self) -> int | None:
        """The server's RSS before the first run."""
        return self.memory[0].before if self.memory else None

    @property
    def rss_after(self) -> int | None:
        """The server's RSS after the last run."""
        return self.memory[-1].after if self.memory else None

    @property
    def rss_peak(self) -> int | None:
        return max(m.peak for m in self.memory) if self.memory else None

    @property
    def rss_growth(self) -> int | None:
        """The largest rise of the peak above the RSS at the start of its run."""
        return max(m.growth for m in self.memory) if self.memory else None

    @property
    def server_cpu(self) -> float | None:
        """Median server CPU seconds per run."""
        return statistics.median(m.cpu_seconds for m in self.memory) if self.memory else None

    def to_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "values": self.values,
            "median": self.median if self.values else None,
            "memory": [
                {"before": m.before, "after": m.after, "peak": m.peak, "cpu_seconds": m.cpu_seconds}
                for m in self.memory
            ],
            "facts": self.facts,
        }


class Results:
    """Every figure of one bench run, by key."""

    def __init__(self) -> None:
        self.figures: dict[str, Figure] = {}

    def figure(self, key: str, unit: str = "s") -> Figure:
        found = self.figures.get(key)
        if found is None:
            found = self.figures[key] = Figure(key, unit)
        return found

    def get(self, key: str) -> Figure | None:
        found = self.figures.get(key)
        return found if found is not None and found.values else None

    def to_json(self) -> dict[str, Any]:
        return {key: figure.to_json() for key, figure in self.figures.items()}


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        raise ValueError("no values")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]
