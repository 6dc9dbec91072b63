"""Errors of the condition language, each with a position in the expression text."""

from __future__ import annotations

from .nodes import Position

__all__ = ["LanguageError"]


class LanguageError(Exception):
    """A syntax or type error at ``pos`` (1-based, relative to the expression)."""

    def __init__(self, message: str, pos: Position) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos

    def __str__(self) -> str:
        return f"{self.pos.line}:{self.pos.column}: {self.message}"
