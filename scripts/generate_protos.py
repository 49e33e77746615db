"""Regenerate generated/ from protos/ (python, grpc, type stubs and a descriptor set).

The descriptor set (generated/annotation/v1/descriptors.binpb) keeps the
protos' comments (`--include_source_info`): the gateway's OpenAPI document
takes its summaries and descriptions from them.

Usage: python scripts/generate_protos.py [--check]

With --check nothing is written: the script exits 1 when generated/ differs
from what protos/ would produce.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
GENERATED = ROOT / "generated"
DESCRIPTOR_SET = Path("annotation/v1/descriptors.binpb")
PACKAGE_MARKER = '"""Generated from protos/: do not edit; run scripts/generate_protos.py."""\n'


def include_paths() -> list[Path]:
    """Return the folders protoc searches for imports: ours, googleapis' and protobuf's."""
    import google.api  # googleapis-common-protos ships google/api/*.proto

    googleapis_root = Path(next(iter(google.api.__path__))).parent.parent
    protobuf_root = Path(str(resources.files("grpc_tools") / "_proto"))
    return [PROTOS, googleapis_root, protobuf_root]


def generate_into(target: Path) -> None:
    """Compile every proto under protos/ into target."""
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    args = ["grpc_tools.protoc", *(f"-I{p}" for p in include_paths())]
    args += [f"--python_out={target}", f"--pyi_out={target}", f"--grpc_python_out={target}"]
    args += [f"--descriptor_set_out={target / DESCRIPTOR_SET}", "--include_source_info"]
    (target / DESCRIPTOR_SET).parent.mkdir(parents=True, exist_ok=True)
    if protoc.main([*args, *sources]) != 0:
        raise SystemExit("protoc failed")
    for folder in {target / Path(s).parent for s in sources}:
        while folder != target:
            (folder / "__init__.py").write_text(PACKAGE_MARKER)
            folder = folder.parent


def differences(left: Path, right: Path) -> list[str]:
    """List the files that differ between two trees (ignoring caches)."""
    found: list[str] = []
    compare = filecmp.dircmp(left, right, ignore=["__pycache__"])
    stack = [(compare, Path("."))]
    while stack:
        node, prefix = stack.pop()
        found += [str(prefix / n) for n in node.left_only + node.right_only + node.diff_files]
        stack += [(sub, prefix / name) for name, sub in node.subdirs.items()]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when generated/ is stale")
    check = parser.parse_args().check
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate_into(fresh)
        stale = differences(fresh, GENERATED) if GENERATED.exists() else ["generated/"]
        if check:
            for name in stale:
                print(f"stale: generated/{name}", file=sys.stderr)
            return 1 if stale else 0
        shutil.rmtree(GENERATED, ignore_errors=True)
        shutil.copytree(fresh, GENERATED)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
