"""Reason and message templates: text with ``{expression}`` holes.

``"Daily realized loss {pnl} reached the limit {params.limit}"``. A hole may end
in a format spec: ``{account.trades_today:.0f}``. Without one, numbers print with
two decimals, durations as ``15m``, and instants in the ruleset's zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from . import nodes as n
from .compiler import MICROS, Context
from .errors import LanguageError
from .limits import MAX_FORMAT_WIDTH, MAX_TEXT_CHARS, limit
from .parser import parse
from .types import DATE, DURATION, INSTANT, NUMBER, TIMEOFDAY, Type

__all__ = ["Hole", "Template", "format_duration", "format_value", "split_template"]

_SPEC = re.compile(r"^[<>^=]?[+\- ]?#?0?(?P<width>[0-9]*)[,_]?(\.(?P<precision>[0-9]+))?"
                   r"[bcdeEfFgGnosxX%]$")


@dataclass(frozen=True, slots=True)
class Hole:
    node: n.Node
    spec: str
    offset: int  # 0-based offset of the expression in the template text
    body: str = ""  # the expression's text (node positions are relative to it)

    def position(self, text: str, pos: n.Position) -> n.Position:
        """``pos`` (relative to this hole) as a position in the whole template ``text``."""
        return n.position_at(text, self.offset + n.text_offset(self.body, pos))


def split_template(text: str) -> list[str | Hole]:
    """Literal text and holes; ``{{`` and ``}}`` stand for braces."""
    parts: list[str | Hole] = []
    literal = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if text.startswith("{{", i) or text.startswith("}}", i):
            literal += ch
            i += 2
            continue
        if ch == "}":
            raise LanguageError("single '}' in text (write '}}' for a brace)",
                                n.position_at(text, i))
        if ch != "{":
            literal += ch
            i += 1
            continue
        end = text.find("}", i)
        if end < 0:
            raise LanguageError("unclosed '{' in text (write '{{' for a brace)",
                                n.position_at(text, i))
        body = text[i + 1:end]
        if "{" in body:
            raise LanguageError("unclosed '{' (another '{' opens before this one is closed; "
                                "write '{{' for a brace)", n.position_at(text, i))
        spec = ""
        head, sep, tail = body.rpartition(":")
        format_spec = _SPEC.match(tail.strip()) if sep else None
        if format_spec is not None:
            body, spec = head, tail.strip()
            for part in ("width", "precision"):
                digits = format_spec.group(part)
                if digits and int(digits) > MAX_FORMAT_WIDTH:
                    raise LanguageError(
                        f"format {part} {int(digits):,} is too large "
                        f"{limit('format width', MAX_FORMAT_WIDTH)}",
                        n.position_at(text, i + 1 + len(head) + 1))
        try:
            node = parse(body)
        except LanguageError as error:
            raise LanguageError(error.message, n.position_at(
                text, i + 1 + n.text_offset(body, error.pos))) from None
        if literal:
            parts.append(literal)
            literal = ""
        parts.append(Hole(node, spec, i + 1, body))
        i = end + 1
    if literal:
        parts.append(literal)
    return parts


def format_duration(micros: float) -> str:
    total = round(micros / MICROS)
    if total == 0 and micros:
        return f"{micros / 1000:g}ms"
    sign = "-" if total < 0 else ""
    total = abs(total)
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            out += f"{total // size}{unit}"
            total %= size
    return sign + (out or "0s")


def format_value(value: Any, kind: Type | None, zone: ZoneInfo | None, spec: str = "") -> str:
    """A run-time value as text. Only the language's own values print: anything else (a
    value that is not data) prints as ``?``, never as Python's description of it."""
    if value is None:
        return "none"
    if not isinstance(value, bool | int | float | str | list | tuple | dict):
        return "?"
    if spec and isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, spec)
    if kind == DURATION and isinstance(value, int | float):
        return format_duration(value)
    if kind == INSTANT and isinstance(value, int | float):
        moment = datetime.fromtimestamp(value / MICROS, zone or ZoneInfo("UTC"))
        return moment.isoformat(timespec="seconds")
    if kind == TIMEOFDAY and isinstance(value, int | float):
        minutes = int(value // MICROS // 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind in (NUMBER, None) and isinstance(value, int):
        return str(value)
    if kind in (NUMBER, None) and isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return _bounded(", ".join(format_value(v, None, zone)
                                  for v in value[:MAX_TEXT_CHARS // 2]))
    if isinstance(value, dict):
        return _bounded(", ".join(f"{format_value(k, None, zone)}: {format_value(v, None, zone)}"
                                  for k, v in list(value.items())[:MAX_TEXT_CHARS // 4]))
    if kind == DATE:
        return str(value)
    return str(value)


def _bounded(text: str) -> str:
    """Text cut to MAX_TEXT_CHARS, marked with an ellipsis where it was cut."""
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS - 3] + "..."


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled template: call it with a context to get the text."""

    pieces: tuple[str | tuple[Callable[[Context], Any], Type | None, str], ...]
    zone: ZoneInfo | None

    def render(self, ctx: Context) -> str:
        out: list[str] = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
            else:
                function, kind, spec = piece
                try:
                    out.append(_bounded(format_value(function(ctx), kind, self.zone, spec)))
                except Exception as error:  # a reason must never stop a decision
                    out.append(f"<{type(error).__name__}>")
        return _bounded("".join(out))
