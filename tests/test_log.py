"""The process's log handler writes to the sys.stderr of the moment (annotation_api.log)."""

from __future__ import annotations

import io
import logging
import sys

import orjson
import pytest

from annotation_api.log import configure_logging


def test_records_go_to_the_current_stderr_after_the_old_one_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("INFO")
    logging.getLogger("tests.log").info("first")
    assert orjson.loads(first.getvalue())["msg"] == "first"
    first.close()  # as pytest closes a test's captured stderr

    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("tests.log").info("second", extra={"n": 2})
    entry = orjson.loads(second.getvalue())
    assert (entry["level"], entry["msg"], entry["n"]) == ("INFO", "second", 2)
