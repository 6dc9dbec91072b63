"""Built-in holiday calendars: an exchange's closed dates and early closes, as data.

The data lives in ``calendars/<name>.yaml`` (a risk officer reads and checks it
like a ruleset); a session names one with ``calendar: cme-globex-equity`` and may add its
own ``holidays`` and ``early_close`` on top. Each file says, with ``through``, the last
trading date it knows about: after that date it knows no holiday, so ``validate`` and the
daemon warn before it runs out (``ruleset.calendar_warnings``) instead of treating
every holiday as a trading day, silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .calendar import CalendarError, parse_hhmm, parse_zone

__all__ = ["CALENDARS_DIR", "HolidayCalendar", "builtin_calendar", "builtin_calendar_names"]

#: data, like rulesets/: beside engine/ in a checkout and in an installed wheel
CALENDARS_DIR = Path(__file__).resolve().parent.parent / "calendars"


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    """Closed dates and early closes (local times in ``zone``), known up to ``through``."""

    name: str
    zone: ZoneInfo
    through: date
    holidays: frozenset[date]
    early_close: Mapping[date, time] = field(default_factory=dict, hash=False)

    def early_close_in(self, zone: ZoneInfo) -> dict[date, time]:
        """The early closes as wall times of ``zone`` (a session in New York time reads
        a 12:00 Chicago close as 13:00), each on its own date."""
        if zone.key == self.zone.key:
            return dict(self.early_close)
        out: dict[date, time] = {}
        for day, wall in self.early_close.items():
            moved = datetime.combine(day, wall, self.zone).astimezone(zone)
            out[moved.date()] = moved.time().replace(tzinfo=None)
        return out


def builtin_calendar_names() -> tuple[str, ...]:
    """The names a session's ``calendar:`` accepts."""
    return tuple(sorted(path.stem for path in CALENDARS_DIR.glob("*.yaml")))


@lru_cache(maxsize=16)
def builtin_calendar(name: str) -> HolidayCalendar:
    """The built-in calendar called ``name``; a CalendarError names the known ones."""
    known = builtin_calendar_names()
    if not isinstance(name, str) or name not in known:
        raise CalendarError(f"unknown calendar {name!r}: the built-in calendars are "
                            f"{', '.join(known) or 'none'}")
    return _read(CALENDARS_DIR / f"{name}.yaml")


def _read(path: Path) -> HolidayCalendar:
    try:
        data: Any = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as error:
        raise CalendarError(f"calendar {path.name}: {error}") from error
    if not isinstance(data, dict):
        raise CalendarError(f"calendar {path.name}: expected a map")
    try:
        holidays = frozenset(_date(value) for value in data.get("holidays") or ())
        early = {_date(key): parse_hhmm(str(value))
                 for key, value in (data.get("early_close") or {}).items()}
        return HolidayCalendar(str(data.get("name", path.stem)),
                               parse_zone(str(data["timezone"])), _date(data["through"]),
                               holidays, MappingProxyType(early))
    except (KeyError, TypeError, ValueError) as error:
        raise CalendarError(f"calendar {path.name}: {error}") from error


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        raise CalendarError(f"expected a date, got {value!r}")
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())
