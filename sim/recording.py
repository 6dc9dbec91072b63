"""``--record FILE``: every hub push as one JSON object per line, riskrail's event format.

``{"ts": "<push time, ISO-8601 with offset>", "type": "GatewayUserTrade", "data": {...}}``;
a GatewayQuote line also carries ``"contractId"``. ``data`` is the payload exactly as
pushed (wrapped when the simulator wraps).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

__all__ = ["Recorder"]


class Recorder:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")
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
