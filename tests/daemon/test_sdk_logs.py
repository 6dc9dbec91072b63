"""project-x-py's own loggers: their INFO chatter never reaches riskrail's console as JSON
lines on stdout; their warnings reach riskrail's console and log file, formatted as
riskrail's."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import riskrail.daemon.gateway  # noqa: F401  (imports the SDK: its loggers exist)
from riskrail.daemon.logs import configure_logging, log

SDK_MODULE = "project_x_py.realtime.connection_management"


def test_the_sdk_speaks_through_riskrails_handlers(tmp_path: Path,
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    log_file = tmp_path / "riskrail.log"
    configure_logging(log_file)
    try:
        sdk = logging.getLogger(SDK_MODULE)
        sdk.info("Using URL query parameter for JWT authentication")
        sdk.warning("hub reconnecting")
        for handler in log.handlers:
            handler.flush()
        out, err = capfd.readouterr()
    finally:
        configure_logging(None, console_level=100)
    assert "Using URL query parameter" not in out + err
    assert not [line for line in (out + err).splitlines() if line.lstrip().startswith("{")]
    assert "! hub reconnecting" in err
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [(r["logger"], r["level"], r["message"]) for r in records] == [
        (SDK_MODULE, "warning", "hub reconnecting")]
