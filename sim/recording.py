"""``--record FILE``: every hub push as one JSON object per line, riskrail's event format.

``{"ts": "<push time, ISO-8601 with offset>", "type": "GatewayUserTrade", "data": {...}}``;
a GatewayQuote line also carries ``"contractId"``. ``data`` is the payload exactly as
pushed (wrapped when the simulator wraps).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from riskrail.engine.errors import RiskrailError
from riskrail.engine.files import open_to_write

__all__ = ["Recorder", "RecordingError"]


class RecordingError(RiskrailError):
    """The --record file cannot be opened (its reason as ``strerror``)."""

    def __init__(self, path: Path, strerror: str) -> None:
        super().__init__(f"{path}: {strerror}")
        self.path = path
        self.strerror = strerror


class Recorder:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._file: IO[str] | None = open_to_write(self.path, append=True)
        except OSError as error:  # said as "cannot listen on 127.0.0.1:PORT" before
            raise RecordingError(self.path, error.strerror or str(error)) from None
        self.lines = 0

    def write(self, ts: str, target: str, data: Any, contract_id: str | None = None) -> None:
        if self._file is None:
            return
        line: dict[str, Any] = {"ts": ts, "type": target}
        if contract_id is not None:
            line["contractId"] = contract_id
        line["data"] = data
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")
        self._file.flush()
        self.lines += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
