"""The simulated Gateway's world: accounts, contracts, fees and starting prices.

The default world is one account (``SIM-50K``) and one front-month contract for
each instrument of :mod:`riskrail.engine.instruments`. A YAML config file can
add accounts and contracts or override their settings (see sim/README.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from riskrail.engine.errors import RiskrailError
from riskrail.engine.files import read_at_most
from riskrail.engine.instruments import BUILTIN_INSTRUMENTS, Instrument
from ruamel.yaml import YAML

__all__ = [
    "DEFAULT_CONTRACT_MONTH",
    "DEFAULT_FEES",
    "DEFAULT_STARTING_PRICES",
    "AccountSpec",
    "ConfigError",
    "ContractSpec",
    "SimConfig",
    "default_config",
    "load_config",
]

#: Month code + two-digit year used for the default contracts (``CON.F.US.MNQ.H26``).
DEFAULT_CONTRACT_MONTH = "H26"

#: Fees in dollars per contract per side (one fill of one contract), by CME root.
#: Micros 0.37, E-minis and full-size contracts 1.40.
DEFAULT_FEES: Mapping[str, float] = {
    "ES": 1.40,
    "NQ": 1.40,
    "YM": 1.40,
    "RTY": 1.40,
    "GC": 1.40,
    "CL": 1.40,
    "MES": 0.37,
    "MNQ": 0.37,
    "MYM": 0.37,
    "M2K": 0.37,
    "MGC": 0.37,
    "MCL": 0.37,
}

#: Fee for a root missing from DEFAULT_FEES: micros (root starting with M) or not.
MICRO_FEE = 0.37
STANDARD_FEE = 1.40

#: A plausible starting price per CME root.
DEFAULT_STARTING_PRICES: Mapping[str, float] = {
    "ES": 5200.00,
    "MES": 5200.00,
    "NQ": 21500.00,
    "MNQ": 21500.00,
    "YM": 39000.00,
    "MYM": 39000.00,
    "RTY": 2050.00,
    "M2K": 2050.00,
    "GC": 2400.00,
    "MGC": 2400.00,
    "CL": 78.00,
    "MCL": 78.00,
}


class ConfigError(RiskrailError, ValueError):
    """A simulator config or script that cannot be used, with a readable reason."""


@dataclass(frozen=True, slots=True)
class AccountSpec:
    name: str
    balance: float = 50_000.0
    can_trade: bool = True
    id: int | None = None
    is_visible: bool = True
    simulated: bool = True


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """One tradable contract as the Gateway describes it."""

    id: str
    #: CME root (``ES``), used for the instrument table and fees.
    root: str
    #: Root as spelled by the Gateway inside the id (``EP`` for ES).
    gateway_root: str
    name: str
    description: str
    tick_size: float
    tick_value: float
    price: float
    fee: float
    active: bool = True

    @property
    def symbol_id(self) -> str:
        return f"F.US.{self.gateway_root}"


@dataclass(slots=True)
class SimConfig:
    """Everything that shapes a simulated world. All fields have working defaults."""

    accounts: list[AccountSpec] = field(default_factory=lambda: [AccountSpec("SIM-50K")])
    contracts: list[ContractSpec] = field(default_factory=lambda: default_contracts())
    seed: int = 0
    #: Random-walk the price of contracts nobody scripted.
    random_walk: bool = True
    #: Seconds between two random-walk steps (every walking contract moves then).
    walk_interval: float = 1.0
    #: Largest random-walk step, in ticks.
    walk_max_ticks: int = 2
    #: Ask minus bid, in ticks; 0 makes bid = ask = last.
    spread_ticks: int = 1
    #: Wrap user-hub payloads as ``{"action": 1, "data": {...}}``.
    wrap: bool = False
    #: Lifetime of issued tokens, seconds.
    token_ttl: float = 24 * 3600.0

    def contract(self, key: str) -> ContractSpec | None:
        return _find_contract(self.contracts, key)


def _gateway_root(instrument: Instrument) -> str:
    root: str = instrument.aliases[0] if instrument.aliases else instrument.root
    return root


def default_fee(root: str) -> float:
    fee = DEFAULT_FEES.get(root.upper())
    if fee is not None:
        return fee
    return MICRO_FEE if root.upper().startswith("M") else STANDARD_FEE


def contract_for(instrument: Instrument, month: str = DEFAULT_CONTRACT_MONTH) -> ContractSpec:
    gateway_root = _gateway_root(instrument)
    return ContractSpec(
        id=f"CON.F.US.{gateway_root}.{month}",
        root=instrument.root,
        gateway_root=gateway_root,
        name=f"{instrument.root}{month}",
        description=instrument.name or instrument.root,
        tick_size=instrument.tick_size,
        tick_value=instrument.tick_value,
        price=DEFAULT_STARTING_PRICES.get(instrument.root, 100.0),
        fee=default_fee(instrument.root),
    )


def default_contracts() -> list[ContractSpec]:
    return [contract_for(instrument) for instrument in BUILTIN_INSTRUMENTS]


def default_config(**overrides: Any) -> SimConfig:
    config = SimConfig()
    for key, value in overrides.items():
        if not hasattr(config, key):
            raise ConfigError(f"unknown simulator setting {key!r}")
        setattr(config, key, value)
    return config


def _find_contract(contracts: list[ContractSpec], key: str) -> ContractSpec | None:
    wanted = key.strip().upper()
    for contract in contracts:
        if contract.id.upper() == wanted:
            return contract
    for contract in contracts:
        if wanted in {contract.root.upper(), contract.gateway_root.upper(), contract.name.upper()}:
            return contract
    return None


# --------------------------------------------------------------------------- config file


def _require(mapping: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in mapping:
        raise ConfigError(f"{where}: missing {key!r}")
    value = mapping[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{where}: {key!r} must be {kind.__name__}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):  # YAML's .nan and .inf are floats
        raise ConfigError(f"{where}: {key!r} must be a finite number, got {value!r}")
    return value


def _optional(mapping: Mapping[str, Any], key: str, kind: type, where: str, default: Any) -> Any:
    if key not in mapping or mapping[key] is None:
        return default
    return _require(mapping, key, kind, where)


def _account_from(raw: Any, where: str) -> AccountSpec:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: an account must be a mapping")
    known = {"name", "balance", "canTrade", "id", "isVisible", "simulated"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: unknown account keys {sorted(unknown)}")
    return AccountSpec(
        name=_require(raw, "name", str, where),
        balance=_optional(raw, "balance", float, where, 50_000.0),
        can_trade=_optional(raw, "canTrade", bool, where, True),
        id=_optional(raw, "id", int, where, None),
        is_visible=_optional(raw, "isVisible", bool, where, True),
        simulated=_optional(raw, "simulated", bool, where, True),
    )


#: the most ticks a price may count (a tickSize of 1e-320 made every price infinite ticks)
_MAX_TICKS = 1e15


def _contract_from(raw: Any, where: str, existing: list[ContractSpec]) -> ContractSpec:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: a contract must be a mapping")
    known = {
        "id", "root", "name", "description", "tickSize", "tickValue", "price", "fee", "active",
    }
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: unknown contract keys {sorted(unknown)}")
    contract_id = _require(raw, "id", str, where)
    parts = contract_id.split(".")
    if len(parts) != 5 or parts[0] != "CON":
        raise ConfigError(f"{where}: contract id {contract_id!r} is not like CON.F.US.MNQ.H26")
    gateway_root = parts[3].upper()
    base = next((c for c in existing if c.gateway_root == gateway_root), None)
    root = _optional(raw, "root", str, where, base.root if base else gateway_root).upper()
    if base is None:
        base = next((c for c in existing if c.root == root), None)
    tick_size = _optional(raw, "tickSize", float, where, base.tick_size if base else None)
    tick_value = _optional(raw, "tickValue", float, where, base.tick_value if base else None)
    if tick_size is None or tick_value is None:
        raise ConfigError(f"{where}: unknown root {root!r} needs tickSize and tickValue")
    if tick_size <= 0 or tick_value <= 0:
        raise ConfigError(f"{where}: tickSize and tickValue must be positive")
    price = _optional(raw, "price", float, where, base.price if base else 100.0)
    if not abs(price / tick_size) <= _MAX_TICKS:  # a price is counted in whole ticks
        raise ConfigError(f"{where}: price {price!r} is more than {_MAX_TICKS:.0e} ticks of "
                          f"{tick_size!r}")
    return ContractSpec(
        id=contract_id,
        root=root,
        gateway_root=gateway_root,
        name=_optional(raw, "name", str, where, f"{root}{parts[4]}"),
        description=_optional(raw, "description", str, where, base.description if base else root),
        tick_size=tick_size,
        tick_value=tick_value,
        price=price,
        fee=_optional(raw, "fee", float, where, base.fee if base else default_fee(root)),
        active=_optional(raw, "active", bool, where, True),
    )


def config_from_mapping(raw: Mapping[str, Any], base: SimConfig | None = None) -> SimConfig:
    """Apply a parsed config document to ``base`` (the default world when omitted)."""
    config = base if base is not None else SimConfig()
    known = {
        "accounts", "contracts", "fees", "seed", "random_walk", "walk_interval",
        "walk_max_ticks", "spread_ticks", "wrap", "token_ttl",
    }
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"config: unknown keys {sorted(unknown)} (known: {sorted(known)})")
    for index, item in enumerate(raw.get("accounts") or []):
        account = _account_from(item, f"accounts[{index}]")
        taken = next((a.name for a in config.accounts if account.id is not None
                      and a.id == account.id and a.name != account.name), None)
        if taken is not None:  # the simulator kept the last and dropped the other unsaid
            raise ConfigError(f"accounts[{index}]: id {account.id} is {taken!r}'s already")
        config.accounts = [a for a in config.accounts if a.name != account.name] + [account]
    for index, item in enumerate(raw.get("contracts") or []):
        contract = _contract_from(item, f"contracts[{index}]", config.contracts)
        config.contracts = [c for c in config.contracts if c.id != contract.id] + [contract]
    fees = raw.get("fees") or {}
    if not isinstance(fees, Mapping):
        raise ConfigError("fees: must map a root or contract id to dollars per contract per side")
    for key, value in fees.items():
        if not isinstance(value, int | float) or isinstance(value, bool) \
                or not math.isfinite(value) or value < 0:  # .nan and .inf too
            raise ConfigError(f"fees.{key}: must be a non-negative number, got {value!r}")
        matched = False
        updated: list[ContractSpec] = []
        for contract in config.contracts:
            if str(key).upper() in {contract.id.upper(), contract.root, contract.gateway_root}:
                contract = replace(contract, fee=float(value))
                matched = True
            updated.append(contract)
        if not matched:
            raise ConfigError(f"fees.{key}: no such contract or root")
        config.contracts = updated
    config.seed = _optional(raw, "seed", int, "config", config.seed)
    config.random_walk = _optional(raw, "random_walk", bool, "config", config.random_walk)
    config.walk_interval = _optional(raw, "walk_interval", float, "config", config.walk_interval)
    config.walk_max_ticks = _optional(raw, "walk_max_ticks", int, "config", config.walk_max_ticks)
    config.spread_ticks = _optional(raw, "spread_ticks", int, "config", config.spread_ticks)
    config.wrap = _optional(raw, "wrap", bool, "config", config.wrap)
    config.token_ttl = _optional(raw, "token_ttl", float, "config", config.token_ttl)
    if config.walk_interval <= 0:
        raise ConfigError("config: walk_interval must be positive")
    if config.spread_ticks < 0 or config.walk_max_ticks < 0:
        raise ConfigError("config: spread_ticks and walk_max_ticks must be >= 0")
    return config


#: A simulator config is a page of YAML; anything this large is not one.
MAX_CONFIG_BYTES = 1024 * 1024


def load_config(path: str | Path, base: SimConfig | None = None) -> SimConfig:
    """Read a YAML config file (see sim/README.md) on top of the default world."""
    try:
        raw = read_at_most(path, MAX_CONFIG_BYTES)  # a device or a FIFO must not hang us
    except OSError as error:
        raise ConfigError(f"{path}: {error.strerror}") from error
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text: {error.reason}") from error
    try:
        document = YAML(typ="safe").load(text)
    except Exception as error:
        raise ConfigError(f"{path}: invalid YAML: {error}") from error
    if document is None:
        return base if base is not None else SimConfig()
    if not isinstance(document, Mapping):
        raise ConfigError(f"{path}: the config must be a mapping")
    try:
        return config_from_mapping(document, base)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from error
