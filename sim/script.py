"""Trader scripts: a small YAML format of timed steps (see sim/README.md "Scripts").

    name: example
    account: SIM-50K            # optional, the first account otherwise
    steps:
      - at: 0                   # seconds from the start (divided by --speed)
        clock: "09:30 America/Chicago"
      - at: 0
        price: {contract: MNQ, set: 21500}
      - at: 1
        buy: {contract: MNQ, size: 2}                       # market
      - at: 1.5
        sell: {contract: MNQ, size: 2, type: stop, price: 21450, ref: stop1}
      - at: 5
        price: {contract: MNQ, path: [[0, 21490], [2, 21470]]}
      - at: 9
        cancel: stop1
      - at: 9
        close: MNQ
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from .clock import parse_time_of_day
from .model import OrderType
from .world import ConfigError

__all__ = [
    "BUNDLED_SCRIPTS",
    "ORDER_TYPES",
    "Script",
    "Step",
    "load_script",
    "parse_script",
    "standard_script_path",
]

ORDER_TYPES: dict[str, OrderType] = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP,
    "stop_limit": OrderType.STOP_LIMIT,
    "trailing_stop": OrderType.TRAILING_STOP,
    "join_bid": OrderType.JOIN_BID,
    "join_ask": OrderType.JOIN_ASK,
}

ACTIONS = (
    "buy", "sell", "cancel", "modify", "close", "partial_close", "price", "clock",
    "can_trade", "say",
)


@dataclass(frozen=True, slots=True)
class Step:
    at: float
    action: str
    args: dict[str, Any]
    note: str = ""
    index: int = 0

    def describe(self) -> str:
        a = self.args
        if self.action in ("buy", "sell"):
            kind = a["type"]
            text = f"{self.action} {a['size']} {a['contract']} {kind.replace('_', ' ')}"
            prices = [(key, a[key]) for key in ("limit", "stop", "trail")
                      if a.get(key) is not None]
            if len(prices) == 1:  # "sell 2 MNQ stop @ 21450", not "stop stop 21450"
                return f"{text} @ {prices[0][1]:g}"
            return text + "".join(f" {key} {price:g}" for key, price in prices)
        if self.action == "price":
            if "set" in a:
                return f"price {a['contract']} -> {a['set']}"
            return f"price {a['contract']} path {a['path']}"
        if self.action == "cancel":
            return f"cancel {a['target']}"
        if self.action == "close":
            return f"close {a['contract']}"
        if self.action == "partial_close":
            return f"partial close {a['size']} {a['contract']}"
        if self.action == "modify":
            return f"modify {a['ref']} " + " ".join(
                f"{k} {v}" for k, v in a.items() if k != "ref"
            )
        if self.action == "clock":
            return f"clock -> {a.get('to') or '+' + str(a.get('advance')) + 's'}"
        if self.action == "can_trade":
            return f"canTrade -> {a['value']}"
        return str(a.get("text", ""))


@dataclass(frozen=True, slots=True)
class Script:
    name: str
    steps: tuple[Step, ...]
    account: str | None = None
    description: str = ""
    source: str = "<script>"
    refs: frozenset[str] = field(default_factory=frozenset)

    @property
    def duration(self) -> float:
        """Seconds from start to the last step, and to the end of its price path."""
        end = 0.0
        for step in self.steps:
            tail = max((p[0] for p in step.args.get("path", [])), default=0.0)
            end = max(end, step.at + tail)
        return end


def standard_script_path() -> Path:
    return Path(__file__).with_name("scripts") / "standard-session.yaml"


def _number(value: Any, where: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: must be a number, got {value!r}")
    if positive and value <= 0:
        raise ConfigError(f"{where}: must be positive")
    return float(value)


def _size(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where}: size must be a positive whole number, got {value!r}")
    return value


def _contract(raw: Mapping[str, Any], where: str) -> str:
    contract = raw.get("contract")
    if not isinstance(contract, str) or not contract.strip():
        raise ConfigError(f"{where}: 'contract' is required (a root like MNQ or a contract id)")
    return contract.strip()


def _order(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping like {{contract: MNQ, size: 1}}")
    known = {"contract", "size", "type", "price", "limit", "stop", "trail", "ref", "tag"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    kind = str(raw.get("type", "market")).lower()
    if kind not in ORDER_TYPES:
        raise ConfigError(f"{where}: type must be one of {sorted(ORDER_TYPES)}")
    args: dict[str, Any] = {
        "contract": _contract(raw, where),
        "size": _size(raw.get("size", 1), where),
        "type": kind,
        "limit": None,
        "stop": None,
        "trail": None,
        "ref": raw.get("ref"),
        "tag": raw.get("tag"),
    }
    price = raw.get("price")
    if kind in ("limit", "stop_limit"):
        limit = raw.get("limit", price if kind == "limit" else None)
        if limit is None:
            raise ConfigError(f"{where}: a {kind} order needs 'limit' (or 'price')")
        args["limit"] = _number(limit, f"{where}.limit", positive=True)
    if kind in ("stop", "stop_limit"):
        stop = raw.get("stop", price if kind == "stop" else None)
        if stop is None:
            raise ConfigError(f"{where}: a {kind} order needs 'stop' (or 'price')")
        args["stop"] = _number(stop, f"{where}.stop", positive=True)
    if kind == "trailing_stop":
        args["trail"] = _number(raw.get("trail"), f"{where}.trail", positive=True)
    if args["ref"] is not None and not isinstance(args["ref"], str):
        raise ConfigError(f"{where}: ref must be a name")
    return args


def _price(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected {{contract: MNQ, set: 21500}} or a path")
    unknown = set(raw) - {"contract", "set", "path", "bid", "ask", "walk"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    args: dict[str, Any] = {"contract": _contract(raw, where)}
    if "set" in raw:
        args["set"] = _number(raw["set"], f"{where}.set", positive=True)
        for key in ("bid", "ask"):
            if key in raw:
                args[key] = _number(raw[key], f"{where}.{key}", positive=True)
    if "path" in raw:
        path = raw["path"]
        if not isinstance(path, list) or not path:
            raise ConfigError(f"{where}.path: a list of [seconds, price]")
        points = []
        for number, point in enumerate(path):
            if not isinstance(point, list) or len(point) != 2:
                raise ConfigError(f"{where}.path[{number}]: expected [seconds, price]")
            points.append(
                (_number(point[0], f"{where}.path[{number}]"),
                 _number(point[1], f"{where}.path[{number}]", positive=True))
            )
        args["path"] = points
    if "walk" in raw:
        if not isinstance(raw["walk"], bool):
            raise ConfigError(f"{where}.walk: true or false")
        args["walk"] = raw["walk"]
    if not {"set", "path", "walk"} & set(args):
        raise ConfigError(f"{where}: give 'set', 'path' or 'walk'")
    return args


def _step(raw: Any, index: int) -> Step:
    where = f"steps[{index}]"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: a step is a mapping with 'at' and one action")
    at = _number(raw.get("at"), f"{where}.at")
    if at < 0:
        raise ConfigError(f"{where}.at: must be >= 0")
    actions = [key for key in raw if key in ACTIONS]
    unknown = set(raw) - set(ACTIONS) - {"at", "note"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)} (actions: {list(ACTIONS)})")
    if len(actions) != 1:
        raise ConfigError(f"{where}: exactly one action of {list(ACTIONS)} per step")
    action = actions[0]
    value = raw[action]
    note = str(raw.get("note", "") or "")
    args: dict[str, Any]
    if action in ("buy", "sell"):
        args = _order(value, f"{where}.{action}")
    elif action == "cancel":
        if isinstance(value, str):
            args = {"target": value}
        elif isinstance(value, Mapping) and isinstance(value.get("contract"), str):
            args = {"target": f"contract:{value['contract']}"}
        else:
            raise ConfigError(f"{where}.cancel: an order ref, 'all', or {{contract: MNQ}}")
    elif action == "modify":
        if not isinstance(value, Mapping) or not isinstance(value.get("ref"), str):
            raise ConfigError(f"{where}.modify: needs 'ref' and new size/limit/stop/trail")
        args = {"ref": value["ref"]}
        for key in ("size", "limit", "stop", "trail"):
            if key in value:
                args[key] = (
                    _size(value[key], where) if key == "size"
                    else _number(value[key], f"{where}.modify.{key}", positive=True)
                )
        if len(args) == 1:
            raise ConfigError(f"{where}.modify: nothing to change")
    elif action == "close":
        contract = value if isinstance(value, str) else (
            value.get("contract") if isinstance(value, Mapping) else None
        )
        if not isinstance(contract, str):
            raise ConfigError(f"{where}.close: a contract (MNQ) or {{contract: MNQ}}")
        args = {"contract": contract}
    elif action == "partial_close":
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}.partial_close: {{contract: MNQ, size: 1}}")
        args = {"contract": _contract(value, where), "size": _size(value.get("size"), where)}
    elif action == "price":
        args = _price(value, f"{where}.price")
    elif action == "clock":
        if isinstance(value, str):
            parse_time_of_day(value)
            args = {"to": value}
        elif isinstance(value, Mapping) and "advance" in value:
            args = {"advance": _number(value["advance"], f"{where}.clock.advance", positive=True)}
        else:
            raise ConfigError(f"{where}.clock: '09:30 America/Chicago' or {{advance: 60}}")
    elif action == "can_trade":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}.can_trade: true or false")
        args = {"value": value}
    else:
        args = {"text": str(value)}
    return Step(at, action, args, note, index)


def parse_script(document: Any, source: str = "<script>") -> Script:
    try:
        if not isinstance(document, Mapping):
            raise ConfigError("a script is a mapping with 'steps'")
        unknown = set(document) - {"name", "description", "account", "steps"}
        if unknown:
            raise ConfigError(f"unknown keys {sorted(unknown)}")
        raw_steps = document.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise ConfigError("'steps' must be a non-empty list")
        steps = [_step(raw, index) for index, raw in enumerate(raw_steps)]
        refs = set()
        for step in steps:
            ref = step.args.get("ref") if step.action in ("buy", "sell") else None
            if ref is not None:
                if ref in refs:
                    raise ConfigError(f"steps[{step.index}]: ref {ref!r} used twice")
                refs.add(ref)
        for step in steps:
            wanted = step.args.get("ref") if step.action == "modify" else (
                step.args["target"] if step.action == "cancel" else None
            )
            if (
                wanted is not None and wanted != "all" and not wanted.startswith("contract:")
                and wanted not in refs
            ):
                raise ConfigError(f"steps[{step.index}]: no order has ref {wanted!r}")
        account = document.get("account")
        if account is not None and not isinstance(account, str | int):
            raise ConfigError("'account' is an account name or id")
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from error
    ordered = sorted(steps, key=lambda s: (s.at, s.index))
    return Script(
        name=str(document.get("name") or Path(source).stem),
        steps=tuple(ordered),
        account=None if account is None else str(account),
        description=str(document.get("description") or ""),
        source=source,
        refs=frozenset(refs),
    )


#: names of the bundled scripts (``riskrail sim trade standard``) -> their files
BUNDLED_SCRIPTS = {"standard": "standard-session.yaml", "demo": "demo-session.yaml"}


def load_script(path: str | Path) -> Script:
    """Read a script file; ``standard`` names the bundled standard session, ``demo`` the
    day of ``riskrail demo`` (``BUNDLED_SCRIPTS``)."""
    bundled = BUNDLED_SCRIPTS.get(str(path))
    target = Path(path) if bundled is None else standard_script_path().with_name(bundled)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{target}: {error.strerror}") from error
    try:
        document = YAML(typ="safe").load(text)
    except Exception as error:
        raise ConfigError(f"{target}: invalid YAML: {error}") from error
    return parse_script(document, str(target))
