"""Reading ruleset YAML with ruamel.yaml so every node keeps its line and column."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLWarning

from ..files import read_at_most
from ..language.limits import MAX_FILE_BYTES, MAX_YAML_DEPTH, MAX_YAML_VALUES, limit
from .diagnostics import Diagnostic

__all__ = ["Source", "expansion_problem", "load_source", "plain", "position_of", "scalar_position"]


@dataclass
class Source:
    path: str
    text: str
    data: Any  # ruamel round-trip nodes (CommentedMap / CommentedSeq / scalars)

    def node_at(self, path: Sequence[str | int]) -> Any:
        """The node at ``path`` (keys and indexes from the top), or None where there is none."""
        node = self.data
        for step in path:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                return None
        return node


def load_source(path: str | Path,
                text: str | None = None) -> tuple[Source | None, list[Diagnostic]]:
    display = str(path)

    def refuse(message: str, line: int = 1, column: int = 1) -> tuple[None, list[Diagnostic]]:
        return None, [Diagnostic(display, line, column, "error", message)]

    if text is None:
        try:
            raw = read_at_most(path, MAX_FILE_BYTES)  # a FIFO or a device must not hang us
        except OSError as error:
            return refuse(f"cannot read file: {error.strerror}")
        if len(raw) > MAX_FILE_BYTES:
            return refuse(f"the file is larger than {MAX_FILE_BYTES:,} bytes "
                          f"{limit('file size', MAX_FILE_BYTES, 'bytes')}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return refuse(f"not UTF-8 text: {error.reason}")
    elif len(text) > MAX_FILE_BYTES or len(text.encode("utf-8")) > MAX_FILE_BYTES:
        return refuse(f"the file is larger than {MAX_FILE_BYTES:,} bytes "
                      f"{limit('file size', MAX_FILE_BYTES, 'bytes')}")
    deep = _deep_flow_nesting(text)
    if deep is not None:
        return refuse(f"YAML: lists and maps nest more than {MAX_YAML_DEPTH} deep "
                      f"{limit('YAML depth', MAX_YAML_DEPTH)}", *deep)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # ruamel warns on stderr; we report instead
            data = yaml.load(text)
    except MarkedYAMLError as error:
        line, column, problem = _yaml_problem(error)
        return refuse(f"YAML: {problem}", line, column)
    except RecursionError:
        return refuse(f"YAML: lists and maps nest too deeply {limit('YAML depth', MAX_YAML_DEPTH)}")
    except Exception as error:  # ruamel raises a few non-marked errors
        return refuse(f"YAML: {error}")
    if data is None:
        what = "the file is empty" if not text.strip() else "the file has only comments"
        return refuse(f"{what}: a ruleset needs a name and rules")
    expansion = expansion_problem(data)
    if expansion is not None:
        message, (line, column) = expansion
        return refuse(message, line, column)
    return Source(display, text, data), [_yaml_warning(display, w.message) for w in caught
                                         if isinstance(w.message, YAMLWarning)]


def _yaml_warning(path: str, warning: Warning) -> Diagnostic:
    """A YAML warning (a reused anchor) as a diagnostic at its place."""
    text = str(warning)
    reused = re.search(r"duplicate anchor '([^']*)'.*?line (\d+).*?second occurrence.*?"
                       r"line (\d+), column (\d+)", text, re.DOTALL)
    if reused:
        name, first, line, column = reused.groups()
        return Diagnostic(path, int(line), int(column), "warning",
                          f"YAML: anchor &{name} is defined again (first on line {first}); "
                          "the aliases after this refer to this one")
    return Diagnostic(path, 1, 1, "warning", "YAML: " + " ".join(text.split())[:200])


def _deep_flow_nesting(text: str) -> tuple[int, int] | None:
    """Where flow collections (``[[[...`` or ``{a: {b: ...``) nest past the YAML depth
    limit, if they do. ruamel's scanner takes time quadratic in the flow depth (and its
    composer recursion), so this is found with its token scanner alone, stopping at the
    limit; a cheap count of brackets decides whether it is worth running."""
    naive = deepest = 0
    for char in text:
        if char in "[{":
            naive += 1
            deepest = max(deepest, naive)
        elif char in "]}" and naive:
            naive -= 1
    if deepest <= MAX_YAML_DEPTH:
        return None
    depth = 0
    try:
        for token in YAML(typ="rt").scan(text):
            name = type(token).__name__
            if name in ("FlowSequenceStartToken", "FlowMappingStartToken"):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    mark = token.start_mark
                    return mark.line + 1, mark.column + 1
            elif name in ("FlowSequenceEndToken", "FlowMappingEndToken"):
                depth -= 1
    except Exception:  # a syntax error: the loader reports it with its position
        return None
    return None


def expansion_problem(data: Any) -> tuple[str, tuple[int, int]] | None:
    """Alias bombs, cycles and deep nesting: the document as a tree (aliases written out)
    must have at most MAX_YAML_VALUES values and MAX_YAML_DEPTH levels, and no alias may
    sit inside the map or list it names. Problems are placed at the nearest anchored map
    or list (``&name``) they come from, else at the innermost map or list."""
    values = 0
    #: (node, depth, ancestors' ids, where to report, whether that is an anchor's place):
    #: an iterative walk, so that depth cannot hurt it
    stack: list[tuple[Any, int, frozenset[int], tuple[int, int], bool]] = [
        (data, 1, frozenset(), _position(data) or (1, 1), _anchored(data))]
    while stack:
        node, depth, ancestors, where, pinned = stack.pop()
        values += 1
        if values > MAX_YAML_VALUES:
            return (f"YAML: the document has more than {MAX_YAML_VALUES:,} values once its "
                    f"aliases are written out {limit('YAML values', MAX_YAML_VALUES)}", where)
        if not isinstance(node, dict | list):
            continue
        if id(node) in ancestors:
            return "YAML: an alias refers to a map or list that contains it (a cycle)", where
        if depth > MAX_YAML_DEPTH:
            return (f"YAML: lists and maps nest more than {MAX_YAML_DEPTH} deep "
                    f"{limit('YAML depth', MAX_YAML_DEPTH)}", where)
        inside = ancestors | {id(node)}
        for child in (node.values() if isinstance(node, dict) else node):
            own = _position(child)
            if own is not None and (_anchored(child) or not pinned):
                stack.append((child, depth + 1, inside, own, _anchored(child)))
            else:
                stack.append((child, depth + 1, inside, where, pinned))
    return None


def _anchored(node: Any) -> bool:
    return getattr(getattr(node, "anchor", None), "value", None) is not None


def _position(node: Any) -> tuple[int, int] | None:
    if isinstance(node, CommentedMap | CommentedSeq):
        return node.lc.line + 1, node.lc.col + 1
    return None


def _yaml_problem(error: MarkedYAMLError) -> tuple[int, int, str]:
    """Where a YAML error is and what to tell a person who is not a YAML lawyer."""
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = str(error.problem or error.context or "invalid YAML").splitlines()[0]
    context = str(error.context or "")
    context_mark = error.context_mark
    if "duplicate key" in problem:
        found = re.match(r'found duplicate key "(.*)" with value "(.*)" '
                         r'\(original value: "(.*)"\)', problem)
        if found:
            key, _, original = found.groups()
            return line, column, (f"duplicate key {key!r}: it is already set to {original} "
                                  "above, and a key may appear only once")
        return line, column, problem
    if "'\\t'" in problem or "\t" in problem:
        return line, column, "a tab character; indent YAML with spaces only"
    if "quoted scalar" in context and context_mark is not None:
        # The end of the file is where the parser noticed; the fix is at the opening quote.
        return (context_mark.line + 1, context_mark.column + 1,
                "this quoted string is never closed (missing closing quote)")
    if "expected <block end>" in problem or "expected <block mapping start>" in problem:
        return line, column, ("bad indentation: this line does not line up with the "
                              "lines above it")
    if "mapping values are not allowed" in problem:
        return line, column, ("unexpected ':' (a value containing ': ' must be quoted, "
                              "or the indentation is wrong)")
    return line, column, problem


def position_of(data: Any, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
    """1-based (line, column) of the value (or key) at ``path``, or of the nearest parent."""
    node = data
    best = (1, 1)
    if isinstance(node, CommentedMap | CommentedSeq):
        best = (node.lc.line + 1, node.lc.col + 1)
    for index, step in enumerate(path):
        last = index == len(path) - 1
        if isinstance(node, CommentedMap) and step in node:
            if (last and key) or node[step] is None:
                # a null value (`cooldown:`) has no place of its own: its key's
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


def scalar_position(source: str, line: int, column: int, value: str,
                    offset: int) -> tuple[int, int]:
    """Where in the file character ``offset`` of a scalar's ``value`` is written.

    ``line``/``column`` (1-based) is where the scalar starts: its first character,
    opening quote, or block indicator (``>-``, ``|``). A single-line plain or quoted
    scalar maps exactly; a multi-line one (folded or literal block, or a plain or
    quoted scalar continued on later lines) maps to the source line holding that part
    of the text and the column of the character there. An offset at the end of the
    value (an "unexpected end" error) maps just after its last character.
    """
    lines = source.split("\n")
    if not 1 <= line <= len(lines):
        return line, column
    first = lines[line - 1]
    start = first[column - 1:column] if column >= 1 else ""
    # (offset in value, line, column) of each piece of the value found in the source
    pieces: list[tuple[int, int, int, int]] = []  # (value start, length, line, column)
    found = 0
    if start in ("|", ">"):
        following = range(line, len(lines))  # the text begins on the next line
    else:
        quote = 1 if start in ("'", '"') else 0
        head = first[column - 1 + quote:]
        common = next((i for i, (a, b) in enumerate(zip(head, value, strict=False)) if a != b),
                      min(len(head), len(value)))
        closed = quote and start in head  # a quoted scalar that ends on this line
        if offset <= common or (closed and "\n" not in value):
            return line, column + quote + offset  # on the first line: exact
        head = head[:common]
        pieces.append((0, common, line, column + quote))
        found = common
        following = range(line, len(lines))
    for index in following:
        if found >= len(value):
            break
        raw = lines[index]
        content = raw.strip()
        if not content:
            continue
        if content[-1:] in ("'", '"') and content[:-1] and value.find(content, found) < 0:
            content = content[:-1]  # the closing quote of a multi-line quoted scalar
        at = value.find(content, found)
        if at < 0 or value[found:at].strip():
            break  # not this scalar's text any more
        pieces.append((at, len(content), index + 1, len(raw) - len(raw.lstrip()) + 1))
        found = at + len(content)
    if not pieces:
        return line, column
    for value_start, length, piece_line, piece_column in reversed(pieces):
        if offset >= value_start:
            return piece_line, piece_column + min(offset - value_start, length)
    return pieces[0][2], pieces[0][3]


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
