"""Compiler-style diagnostics: ``path:line:col: error: message``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Literal

from riskrail.engine.errors import RiskrailError

__all__ = ["Diagnostic", "RulesetError", "format_github", "format_json", "format_text",
           "strict"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    path: str
    line: int
    column: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"


class RulesetError(RiskrailError):
    """A ruleset that cannot be used; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        errors = [d for d in diagnostics if d.severity == "error"]
        super().__init__(f"{len(errors)} error(s) in ruleset")
        self.diagnostics = diagnostics

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)


def format_text(diagnostics: list[Diagnostic]) -> str:
    return "".join(f"{d}\n" for d in diagnostics)


def format_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps([asdict(d) for d in diagnostics], indent=2) + "\n"


def format_github(diagnostics: Iterable[Diagnostic], title: str = "riskrail") -> str:
    """GitHub Actions workflow commands: each diagnostic becomes an annotation on its
    file and line in the pull request (``::error file=...,line=...,col=...::message``)."""
    return "".join(
        f"::{d.severity} file={_property(d.path)},line={d.line},col={d.column},"
        f"title={_property(title)}::{_data(d.message)}\n" for d in diagnostics)


def strict(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """``--strict``: every warning is an error."""
    return [replace(d, severity="error") if d.severity == "warning" else d
            for d in diagnostics]


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
