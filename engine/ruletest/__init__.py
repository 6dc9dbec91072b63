"""Rule tests as data (``riskrail test``): a ``*.test.yaml`` file beside the ruleset it
tests holds cases, each with events written as a risk officer says them and what must
happen (the decisions in order, nothing, or facts at instants). The events go through
the dry-run's pipeline, so a passing test shows what the daemon would decide.

The format is documented by ``schemas/ruletest.schema.json`` (``riskrail schema
--tests``), built from :mod:`.schema`."""

from __future__ import annotations

import os
from pathlib import Path

from ..ruleset.build import TEST_SUFFIXES
from ..ruleset.diagnostics import Diagnostic
from .load import DEFAULT_START, Case, RulesetCache, TestFile, default_ruleset, load_test_file
from .run import CaseResult, Coverage, EngineFactory, coverage, run_case, run_file
from .schema import TEST_SCHEMA_ID, build_test_schema

__all__ = ["DEFAULT_START", "TEST_SCHEMA_ID", "Case", "CaseResult", "Coverage", "EngineFactory",
           "RulesetCache", "TestFile", "build_test_schema", "coverage", "default_ruleset",
           "discover", "load_test_file", "run_case", "run_file"]


def _is_test(path: Path) -> bool:
    return path.name.endswith(TEST_SUFFIXES)


def _walk(folder: Path) -> list[Path]:
    """The test files in ``folder`` and below, hidden folders (``.venv``, ``.git``) not
    entered."""
    out: list[Path] = []
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        out += [Path(root) / name for name in sorted(files) if name.endswith(TEST_SUFFIXES)]
    return out


def discover(paths: list[str]) -> tuple[list[Path], list[Diagnostic]]:
    """The test files under ``paths``: a test file named, the tests of a ruleset file
    named (``desk.yaml`` -> ``desk.test.yaml`` beside it, or ``tests/desk*.test.yaml``),
    every ``*.test.yaml`` in a folder (hidden folders such as ``.venv`` and ``.git``
    aside); and a problem for each path that has none."""
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = _walk(path)
            if not inside:
                problems.append(Diagnostic(raw, 1, 1, "error",
                                           "no rule tests (*.test.yaml) in this folder"))
            found += inside
        elif path.is_file() and _is_test(path):
            found.append(path)
        elif path.is_file():
            stem = path.name.rsplit(".", 1)[0]
            beside = [path.with_name(f"{stem}{suffix}") for suffix in TEST_SUFFIXES]
            beside += sorted((path.parent / "tests").glob(f"{stem}*.test.y*ml"))
            tests = [p for p in beside if p.is_file()]
            if not tests:
                problems.append(Diagnostic(raw, 1, 1, "error",
                                           f"not a rule test file (*.test.yaml), and no "
                                           f"{stem}.test.yaml beside it"))
            found += tests
        else:
            problems.append(Diagnostic(raw, 1, 1, "error", "no such file or folder"))
    unique: list[Path] = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique, problems
