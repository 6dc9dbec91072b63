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
from .parser import parse
from .types import DATE, DURATION, INSTANT, NUMBER, TIMEOFDAY, Type

__all__ = ["Hole", "Template", "format_duration", "format_value", "split_template"]

_SPEC = re.compile(r"^[<>^=]?[+\- ]?#?0?[0-9]*[,_]?(\.[0-9]+)?[bcdeEfFgGnosxX%]$")


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
        if sep and _SPEC.match(tail.strip()):
            body, spec = head, tail.strip()
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
    if value is None:
        return "none"
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
        return ", ".join(format_value(v, None, zone) for v in value)
    if kind == DATE:
        return str(value)
    return str(value)


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
                    out.append(format_value(function(ctx), kind, self.zone, spec))
                except Exception as error:  # a reason must never stop a decision
                    out.append(f"<{type(error).__name__}>")
        return "".join(out)
