"""Instrument metadata: tick size, tick value and the Gateway's root aliases.

The built-in table serves offline replay; a ruleset's ``instruments:`` section
extends or overrides it, and a connected Gateway's Contract/searchById answer
is the authority when live. An unknown instrument is an error, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from riskrail.engine.errors import RiskrailError

__all__ = [
    "BUILTIN_INSTRUMENTS",
    "Instrument",
    "InstrumentTable",
    "UnknownInstrumentError",
    "contract_root",
]


class UnknownInstrumentError(RiskrailError, LookupError):
    """Raised when a tick size or value is needed for an instrument nobody described."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"unknown instrument {what!r}: no tick size/value in the ruleset's instruments "
            "or the built-in table"
        )
        self.what = what


@dataclass(frozen=True, slots=True)
class Instrument:
    """One product (symbol root) with its tick economics."""

    root: str
    tick_size: float
    tick_value: float
    name: str = ""
    #: Roots the Gateway uses for this product (e.g. ``EP`` for ES).
    aliases: tuple[str, ...] = field(default=())

    def ticks(self, price_difference: float) -> float:
        return price_difference / self.tick_size

    def money(self, price_difference: float, size: float) -> float:
        """Dollar value of a price move for ``size`` contracts."""
        return price_difference / self.tick_size * self.tick_value * size


BUILTIN_INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("ES", 0.25, 12.50, "E-mini S&P 500", ("EP",)),
    Instrument("MES", 0.25, 1.25, "Micro E-mini S&P 500"),
    Instrument("NQ", 0.25, 5.00, "E-mini Nasdaq-100", ("ENQ",)),
    Instrument("MNQ", 0.25, 0.50, "Micro E-mini Nasdaq-100"),
    Instrument("YM", 1.00, 5.00, "E-mini Dow"),
    Instrument("MYM", 1.00, 0.50, "Micro E-mini Dow"),
    Instrument("RTY", 0.10, 5.00, "E-mini Russell 2000"),
    Instrument("M2K", 0.10, 0.50, "Micro E-mini Russell 2000"),
    Instrument("GC", 0.10, 10.00, "Gold"),
    Instrument("MGC", 0.10, 1.00, "Micro Gold"),
    Instrument("CL", 0.01, 10.00, "Crude Oil"),
    Instrument("MCL", 0.01, 1.00, "Micro Crude Oil"),
)


def contract_root(contract_id: str) -> str:
    """The Gateway root inside a contract id: ``CON.F.US.MNQ.H26`` -> ``MNQ``.

    Symbol ids (``F.US.EP``) and bare roots are accepted too.
    """
    parts = contract_id.split(".")
    if len(parts) >= 5 and parts[0] == "CON":
        return parts[3].upper()
    if len(parts) == 3:
        return parts[2].upper()
    return contract_id.upper()


class InstrumentTable:
    """Resolves contract ids and roots (aliases included) to instruments."""

    def __init__(self, instruments: Iterable[Instrument] = BUILTIN_INSTRUMENTS) -> None:
        self._by_root: dict[str, Instrument] = {}
        self._alias: dict[str, str] = {}
        for instrument in instruments:
            self.add(instrument)

    def add(self, instrument: Instrument) -> None:
        root = instrument.root.upper()
        previous = self._by_root.get(root)
        if previous is not None:
            for alias in previous.aliases:
                self._alias.pop(alias.upper(), None)
        self._by_root[root] = instrument
        self._alias[root] = root
        for alias in instrument.aliases:
            self._alias[alias.upper()] = root

    def extended(self, overrides: Mapping[str, Instrument]) -> InstrumentTable:
        table = InstrumentTable(self._by_root.values())
        for instrument in overrides.values():
            table.add(instrument)
        return table

    def symbol(self, contract_or_root: str) -> str:
        """The usual (CME) root name; unknown roots are returned as the Gateway spells them."""
        raw = contract_root(contract_or_root)
        return self._alias.get(raw, raw)

    def get(self, contract_or_root: str) -> Instrument | None:
        return self._by_root.get(self.symbol(contract_or_root))

    def require(self, contract_or_root: str) -> Instrument:
        instrument = self.get(contract_or_root)
        if instrument is None:
            raise UnknownInstrumentError(contract_or_root)
        return instrument

    def knows(self, root: str) -> bool:
        return root.upper() in self._alias

    @property
    def roots(self) -> list[str]:
        return sorted(self._by_root)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_root.values())
