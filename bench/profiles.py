"""Summaries of py-spy's collapsed stacks (`python -m bench --profile DIR`).

    .venv/bin/python -m bench.profiles DIR/03-init-100000.txt [--top 30] [--match TEXT]
    .venv/bin/python -m bench.profiles DIR/01-calls.txt --layers

Prints the functions holding the most samples, inclusive (anywhere on the
stack) and exclusive (the frame running), so a hot path shows up without a
flame-graph viewer. `--match` keeps only the stacks that contain TEXT (e.g.
`InitProject`), to look at one call among the server's idle loops.

`--layers` shares the event loop's thread (MainThread) among the layers a call
passes through: each sample goes to the innermost frame that names a layer
(LAYERS, first match from the running frame outwards); samples waiting in
epoll are left out. A profile recorded with `BENCH_PY_SPY_ARGS=--native`
shows the C frames too, so grpc's Cython core (cygrpc) is told apart from
asyncio's own C code.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# py-spy frames look like "function (path/to/module.py:123)".
_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def frame_name(frame: str) -> str:
    """`function (module.py)`, without the line number and with a short path."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "/lib/python3", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['name']} ({path})"


def summarize(path: Path, *, top: int, match: str | None) -> str:
    inclusive: Counter[str] = Counter()
    exclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        if match and match not in stack:
            continue
        count = int(count_text)
        frames = [frame_name(f) for f in stack.split(";")]
        total += count
        for name in set(frames):
            inclusive[name] += count
        exclusive[frames[-1]] += count
    if not total:
        return "no samples"
    lines = [f"{total} samples" + (f" in stacks containing {match!r}" if match else "")]
    for title, counter in (("inclusive", inclusive), ("exclusive", exclusive)):
        lines.append(f"\n{title}:")
        for name, count in counter.most_common(top):
            lines.append(f"{100 * count / total:6.1f}%  {name}")
    return "\n".join(lines)


# (layer, substrings of a frame that place a sample in it), innermost match wins.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("grpc.aio core (cygrpc, its socket writes)", ("grpc/_cython", "cygrpc", "grpc/aio/")),
    ("SQLite hand-off (aiosqlite, one-hop cursor)", ("aiosqlite/", "storage/sqlite_cursor.py")),
    ("SQLAlchemy (statement, execute, result)", ("sqlalchemy/",)),
    ("protobuf", ("google/protobuf", "google/_upb", "_pb2")),
    ("interceptor and access log", ("server/interceptors.py", "annotation_api/log.py", "logging/")),
    ("our code (servicers, rules, storage)", ("server/", "storage/", "annotation_api/")),
    ("asyncio", ("asyncio/", "_asynciomodule", "selectors.py", "contextlib.py")),
)
_IDLE = ("epoll_wait", "EpollSelector.select")


def layer_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for layer, marks in LAYERS:
            if any(mark in frame for mark in marks):
                return layer
    return "other (C library, interpreter)"


def layers(path: Path, *, thread: str = "MainThread") -> str:
    shares: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        if not count_text.isdigit() or thread not in frames[0]:
            continue
        if any(mark in frames[-1] for mark in _IDLE):
            continue
        count = int(count_text)
        total += count
        shares[layer_of(frames)] += count
    if not total:
        return "no samples"
    lines = [f"{total} busy samples of {thread}"]
    for name, count in shares.most_common():
        lines.append(f"{100 * count / total:6.1f}%  {name}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match")
    parser.add_argument("--layers", action="store_true", help="the event loop's time by layer")
    args = parser.parse_args()
    if args.layers:
        print(layers(args.file))
        return
    print(summarize(args.file, top=args.top, match=args.match))


if __name__ == "__main__":
    main()
