"""Errors of the condition language, each with a position in the expression text."""

from __future__ import annotations

from ..errors import RiskrailError
from .nodes import Position

__all__ = ["LanguageError"]


class LanguageError(RiskrailError):
    """A syntax or type error at ``pos`` (1-based, relative to the expression).

    ``param`` names the rule parameter whose value is the mistake, when it is one
    (``params.grace`` set to 60 where a duration is needed): the error is then reported
    at the parameter's own line rather than in the expression that reads it."""

    def __init__(self, message: str, pos: Position, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.param = param

    def __str__(self) -> str:
        return f"{self.pos.line}:{self.pos.column}: {self.message}"
