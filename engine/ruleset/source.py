"""Reading ruleset YAML with ruamel.yaml so every node keeps its line and column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from .diagnostics import Diagnostic

__all__ = ["Source", "load_source", "plain", "position_of"]


@dataclass
class Source:
    path: str
    text: str
    data: Any  # ruamel round-trip nodes (CommentedMap / CommentedSeq / scalars)


def load_source(path: str | Path,
                text: str | None = None) -> tuple[Source | None, list[Diagnostic]]:
    display = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            return None, [Diagnostic(display, 1, 1, "error", f"cannot read file: {error.strerror}")]
        except UnicodeDecodeError as error:
            return None, [Diagnostic(display, 1, 1, "error", f"not UTF-8 text: {error.reason}")]
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        data = yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = error.problem or error.context or "invalid YAML"
        if "duplicate key" in str(problem) or "found duplicate key" in str(error):
            problem = _duplicate_key_message(error)
        return None, [Diagnostic(display, line, column, "error", f"YAML: {problem}")]
    except Exception as error:  # ruamel raises a few non-marked errors
        return None, [Diagnostic(display, 1, 1, "error", f"YAML: {error}")]
    if data is None:
        return None, [Diagnostic(display, 1, 1, "error", "the file is empty")]
    return Source(display, text, data), []


def _duplicate_key_message(error: MarkedYAMLError) -> str:
    text = str(error.problem or "")
    return text.splitlines()[0] if text else "duplicate key"


def position_of(data: Any, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
    """1-based (line, column) of the value (or key) at ``path``, or of the nearest parent."""
    node = data
    best = (1, 1)
    if isinstance(node, CommentedMap | CommentedSeq):
        best = (node.lc.line + 1, node.lc.col + 1)
    for index, step in enumerate(path):
        last = index == len(path) - 1
        if isinstance(node, CommentedMap) and step in node:
            if last and key:
                line, col = node.lc.key(step)
            else:
                line, col = node.lc.value(step)
            best = (line + 1, col + 1)
            node = node[step]
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
            line, col = node.lc.item(step)
            best = (line + 1, col + 1)
            node = node[step]
        else:
            break
    return best


def plain(value: Any) -> Any:
    """ruamel nodes -> plain dicts, lists, str, int, float, bool, None, date."""
    if isinstance(value, dict):
        return {str(k) if isinstance(k, date) else k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    if isinstance(value, str):
        return str(value)
    return value
