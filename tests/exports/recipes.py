"""The download recipes of docs/exports.md, as the documentation prints them,
and a local image host to run them against."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "exports.md"
# a fenced block (possibly indented in a list), and the Python heredoc inside it
_FENCE = re.compile(r"^( *)```[a-z]*\n(.*?)^\1```$", re.MULTILINE | re.DOTALL)
_HEREDOC = re.compile(r"python - <<'PY'\n(.*?)^PY$", re.MULTILINE | re.DOTALL)


def recipe(title: str) -> str:
    """The first fenced block after the paragraph starting with `title` (a shell script)."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(title)
    fence = _FENCE.search(text, start)
    assert fence is not None, title
    block = textwrap.dedent(fence.group(0).split("\n", 1)[1].rsplit("\n", 1)[0])
    assert _HEREDOC.search(block) is not None, title
    return block + "\n"


# Stand-ins on PATH: `python` is the test's interpreter; `yolo` (Ultralytics' CLI,
# which needs torch) records its arguments; `unzip` where the machine has none.
_YOLO = """#!{python}
import pathlib, sys
pathlib.Path("yolo-args.txt").write_text("\\n".join(sys.argv[1:]), encoding="utf-8")
"""
_UNZIP = """#!{python}
import sys, zipfile
archive, target = sys.argv[1], sys.argv[sys.argv.index("-d") + 1]
zipfile.ZipFile(archive).extractall(target)
"""


def run_recipe(script: str, cwd: Path) -> None:
    """Run a recipe's shell script with bash in `cwd`, the tools above on PATH."""
    tools = cwd / ".recipe-tools"
    tools.mkdir(exist_ok=True)
    (tools / "python").symlink_to(sys.executable)
    stand_ins = {"yolo": _YOLO}
    if shutil.which("unzip") is None:
        stand_ins["unzip"] = _UNZIP
    for name, source in stand_ins.items():
        (tools / name).write_text(source.format(python=sys.executable), encoding="utf-8")
        (tools / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        text=True,
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def image_host(root: Path) -> Iterator[str]:
    """Serve the files under `root` on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def write_images(root: Path, names: list[str]) -> dict[str, bytes]:
    """A distinct small PNG or JPEG for each name (relative path under root)."""
    from PIL import Image

    written: dict[str, bytes] = {}
    for index, name in enumerate(names):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        kind = "PNG" if name.lower().endswith(".png") else "JPEG"
        Image.new("RGB", (32 + index, 24), (10 * index, 80, 160)).save(path, kind)
        written[name] = path.read_bytes()
    return written
