"""Summaries of py-spy's collapsed stacks (`python -m bench --profile DIR`).

    .venv/bin/python -m bench.profiles DIR/03-init-100000.txt [--top 30] [--match TEXT]

Prints the functions holding the most samples, inclusive (anywhere on the
stack) and exclusive (the frame running), so a hot path shows up without a
flame-graph viewer. `--match` keeps only the stacks that contain TEXT (e.g.
`InitProject`), to look at one call among the server's idle loops.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match")
    args = parser.parse_args()
    print(summarize(args.file, top=args.top, match=args.match))


if __name__ == "__main__":
    main()
