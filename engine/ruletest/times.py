"""Instants in a rule test: relative to the case's start (``+30s``, ``+1h30m``), a time
of day on the start's date (``10:05``, ``10:05:30``), a local date and time
(``2026-03-13 18:10``), or ISO-8601 with an offset. Local means the ruleset's trading-day
zone. Instants are integer microseconds, as everywhere in the engine."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..clock import MICROS, parse_instant, to_datetime
from ..language.parser import parse_duration

__all__ = ["format_duration", "format_when", "parse_when", "quarter_code"]

_TIME_OF_DAY = re.compile(r"^([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?$")
_LOCAL = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})[ T]([0-9]{1,2}:[0-9]{2}(?::[0-9]{2}"
                    r"(?:\.[0-9]{1,6})?)?)$")
_OFFSET = re.compile(r"(Z|[+-][0-9]{2}:?[0-9]{2})$")

WHEN_FORMS = ("+30s (after the start)", "10:05 (on the start's date)",
              "2026-03-13 18:10 (local)", "2026-03-13T18:10:00-05:00")


def _local(day: date, clock_text: str, zone: ZoneInfo) -> int:
    match = _TIME_OF_DAY.match(clock_text)
    if match is None:
        raise ValueError(f"not a time of day: {clock_text!r}")
    hours, minutes = int(match.group(1)), int(match.group(2))
    seconds = int(match.group(3) or 0)
    micros = int((match.group(4) or "0").ljust(6, "0"))
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"not a time of day: {clock_text!r} (00:00 to 23:59:59)")
    moment = datetime.combine(day, time(hours, minutes, seconds, micros), zone)
    # a wall time skipped by a DST change (02:30 on the March Sunday) does not exist
    try:
        back = moment.astimezone(ZoneInfo("UTC")).astimezone(zone)
    except OverflowError:  # 9999-12-31 23:59 in Chicago is past the year 9999 in UTC
        raise ValueError(f"{day} {clock_text} is out of range (the years 2000 to 2099 "
                         "are replayed)") from None
    if back.replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise ValueError(f"{day} {clock_text} does not exist in {zone.key} (a daylight-"
                         "saving change skips it)")
    return round(moment.timestamp() * MICROS)


def parse_when(value: object, start: int | None, zone: ZoneInfo) -> int:
    """An instant from a test file's value; ValueError saying which forms exist.
    ``start`` is None while the start itself is read (no relative form then)."""
    if isinstance(value, datetime):  # YAML read `2026-03-10 09:00:00` itself
        moment = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return round(moment.timestamp() * MICROS)
    if isinstance(value, date):
        return _local(value, "00:00", zone)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected an instant ({', '.join(WHEN_FORMS)}), got {value!r}")
    text = value.strip()
    if text.startswith("+"):
        if start is None:
            raise ValueError("the start cannot be relative: give a date and time")
        seconds = 0.0 if text[1:] in ("0", "") else parse_duration(text[1:])
        if seconds is None:
            raise ValueError(f"{text!r} is not a duration after the start (+30s, +5m, "
                             "+1h30m, +2d)")
        return start + round(seconds * MICROS)
    if _TIME_OF_DAY.match(text):
        if start is None:
            raise ValueError("the start needs a date: 2026-03-10 09:00")
        return _local(to_datetime(start, zone).date(), text, zone)
    local = _LOCAL.match(text)
    if local is not None:
        try:
            day = date.fromisoformat(local.group(1))
        except ValueError as error:
            raise ValueError(f"{text!r}: {error}") from None
        return _local(day, local.group(2), zone)
    if _OFFSET.search(text):
        try:
            return parse_instant(text)
        except ValueError as error:
            raise ValueError(f"{text!r}: {error}") from None
    raise ValueError(f"expected an instant ({', '.join(WHEN_FORMS)}), got {text!r}")


def format_duration(micros: int) -> str:
    """``5_400_000_000`` -> ``1h30m``; ``0`` -> ``0s``; milliseconds when needed."""
    if micros == 0:
        return "0s"
    sign = "-" if micros < 0 else ""
    rest = abs(micros)
    parts = []
    for unit, size in (("d", 86_400 * MICROS), ("h", 3_600 * MICROS), ("m", 60 * MICROS),
                       ("s", MICROS)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    if rest:
        parts.append(f"{rest / 1000:g}ms")
    return sign + "".join(parts)


def format_when(instant: int, start: int, zone: ZoneInfo) -> str:
    """How a test file would write ``instant``: ``+30s`` from the start (a day or less
    after it), else the local date and time."""
    delta = instant - start
    if 0 <= delta <= 86_400 * MICROS:
        return f"+{format_duration(delta)}"
    return format_local(instant, zone)


def format_local(instant: int, zone: ZoneInfo, start: int | None = None) -> str:
    """``2026-03-11 08:30``; only ``17:00`` on the start's own date."""
    moment = to_datetime(instant, zone)
    same_day = start is not None and to_datetime(start, zone).date() == moment.date()
    text = moment.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M")
    if moment.second or moment.microsecond:
        text += moment.strftime(":%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text


def quarter_code(instant: int, zone: ZoneInfo) -> str:
    """The front quarterly contract on the start's date (``H26`` for 2026-03-10): what a
    bare symbol root names in a test (``MNQ`` -> ``CON.F.US.MNQ.H26``). Quarterly
    equity-index futures expire in March (H), June (M), September (U), December (Z);
    from the expiry month's third Friday the next quarter is the front."""
    day = to_datetime(instant, zone).date()
    year, month = day.year, day.month
    quarter = ((month - 1) // 3 + 1) * 3  # 3, 6, 9, 12
    if month == quarter and day > _third_friday(year, month):
        quarter += 3
    if quarter > 12:
        quarter, year = 3, year + 1
    return f"{'HMUZ'[quarter // 3 - 1]}{year % 100:02d}"


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)
