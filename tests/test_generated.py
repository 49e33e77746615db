"""generated/ must be exactly what protos/ produce (no stale or hand-edited code)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_code_matches_protos() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_protos.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        "generated/ is stale; run scripts/generate_protos.py and commit the result:\n"
        + result.stderr
    )
