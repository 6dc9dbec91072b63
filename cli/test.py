"""``riskrail test PATH...``: run the rule tests (``*.test.yaml``) beside the rules."""

from __future__ import annotations

import json
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import click
from riskrail.cli import exitcodes
from riskrail.engine.durable import DURABLE_MISSING, durable_available, make_engine
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.diagnostics import Diagnostic, format_github, format_text
from riskrail.engine.ruletest import (
    CaseResult,
    Coverage,
    EngineFactory,
    RulesetCache,
    TestFile,
    coverage,
    discover,
    load_test_file,
    run_case,
)


@dataclass
class _Run:
    """Everything one invocation found."""

    files: list[tuple[TestFile, list[CaseResult]]] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    invalid_files: list[str] = field(default_factory=list)
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)

    @property
    def results(self) -> list[CaseResult]:
        return [result for _, results in self.files for result in results]


def _collect(paths: tuple[str, ...], name_filter: str | None,
             progress: Any = None, engine: EngineFactory = RuleNetwork) -> _Run:
    run = _Run()
    tests, problems = discover(list(paths))
    run.errors += problems
    cache = RulesetCache()
    wanted = name_filter.casefold() if name_filter else None
    for path in tests:
        test, diagnostics = load_test_file(path, cache)
        if test is None:
            run.errors += diagnostics
            run.invalid_files.append(str(path))
            if progress is not None:
                progress(str(path), None)
            continue
        assert test.zone is not None
        results: list[CaseResult] = []
        for case in test.cases:
            if wanted is not None and wanted not in case.name.casefold():
                continue
            began = time.perf_counter()
            result = run_case(case, test.path, test.zone, engine)
            run.seconds[(test.path, case.name)] = time.perf_counter() - began
            if result.invalid:
                run.errors += result.invalid
                if test.path not in run.invalid_files:
                    run.invalid_files.append(test.path)
            results.append(result)
            if progress is not None:
                progress(test.path, result)
        run.files.append((test, results))
    return run


def _junit(run: _Run, path: str) -> None:
    results = run.results
    failures = sum(1 for r in results if not r.passed and not r.invalid)
    errors = len(run.invalid_files)
    root = ET.Element("testsuites", name="riskrail test", tests=str(len(results)),
                      failures=str(failures), errors=str(errors))
    for test, cases in run.files:
        suite = ET.SubElement(root, "testsuite", name=test.path, tests=str(len(cases)),
                              failures=str(sum(1 for r in cases if not r.passed
                                               and not r.invalid)),
                              errors=str(sum(1 for r in cases if r.invalid)),
                              file=test.path)
        for result in cases:
            element = ET.SubElement(
                suite, "testcase", classname=_classname(test.path), name=result.name,
                file=test.path, line=str(result.line),
                time=f"{run.seconds.get((test.path, result.name), 0.0):.3f}")
            if result.invalid:
                error = ET.SubElement(element, "error", message=result.invalid[0].message)
                error.text = format_text(result.invalid)
            elif not result.passed:
                failure = ET.SubElement(element, "failure",
                                        message=result.failures[0].splitlines()[0])
                failure.text = _failure_text(result)
    loaded = {test.path for test, _ in run.files}
    for invalid in run.invalid_files:
        if invalid in loaded:
            continue
        suite = ET.SubElement(root, "testsuite", name=invalid, tests="1", failures="0",
                              errors="1", file=invalid)
        element = ET.SubElement(suite, "testcase", classname=_classname(invalid),
                                name="(the test file)", file=invalid)
        mine = [d for d in run.errors if d.path == invalid] or run.errors
        error = ET.SubElement(element, "error", message=mine[0].message if mine else "invalid")
        error.text = format_text(run.errors)
    for problem in run.errors:
        if problem.path in loaded or problem.path in run.invalid_files:
            continue
        if any(d.path == problem.path for d in run.errors[:run.errors.index(problem)]):
            continue
        suite = ET.SubElement(root, "testsuite", name=problem.path, tests="1",
                              failures="0", errors="1")
        element = ET.SubElement(suite, "testcase", classname=_classname(problem.path),
                                name="(collection)")
        error = ET.SubElement(element, "error", message=problem.message)
        error.text = str(problem)
    root.set("errors", str(len(root.findall(".//error"))))
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _classname(path: str) -> str:
    name = path.removesuffix(".yaml").removesuffix(".yml").removesuffix(".test")
    return name.strip("./").replace("/", ".") or "riskrail"


def _failure_text(result: CaseResult) -> str:
    lines = [*result.failures, "decisions made:" if result.decisions else
             "decisions made: none"]
    lines += [f"  {line}" for line in result.decisions]
    return "\n".join(lines)


def _coverage_text(items: list[Coverage]) -> list[str]:
    lines = []
    for item in items:
        exercised = len(item.actions) - len(item.actions_missed)
        lines.append(f"coverage of {item.ruleset}: {len(item.rules) - len(item.rules_missed)} "
                     f"of {len(item.rules)} rules, {exercised} of {len(item.actions)} actions "
                     "made to fire")
        by_rule: dict[str, list[str]] = {}
        for rule, action in item.actions_missed:
            note = "*" if (rule, action) in item.switched_off else ""
            by_rule.setdefault(rule, []).append(action + note)
        for rule, actions in by_rule.items():
            what = " (the rule is disabled)" if rule in item.disabled else ""
            lines.append(f"  not exercised: {rule} {', '.join(actions)}{what}")
        if any(item.switched_off and pair in item.switched_off
               for pair in item.actions_missed):
            lines.append("  (* off with the default params: a test must set them)")
    return lines


@click.command(name="test")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-v", "--verbose", is_flag=True, help="One line for every case, passed or not.")
@click.option("-k", "name_filter", default=None, metavar="TEXT",
              help="Only the cases whose name contains TEXT (any case).")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "github"]),
              default="text", show_default=True,
              help="text: pytest-like; json: one object; github: Actions annotations.")
@click.option("--junit", "junit_path", default=None, type=click.Path(dir_okay=False),
              metavar="FILE", help="Also write a JUnit XML report (for CI).")
@click.option("--engine", type=click.Choice(["network", "durable"]), default="network",
              show_default=True,
              help="durable: decide conditions with durable_rules, as dry-run --engine "
                   "durable (the optional durable extra).")
def test(paths: tuple[str, ...], verbose: bool, name_filter: str | None, output_format: str,
         junit_path: str | None, engine: str) -> None:
    """Run the rule tests under PATHS: test files (*.test.yaml), folders of them, or a
    ruleset file (its NAME.test.yaml beside it).

    \b
    A test file names its ruleset (ruleset: desk.yaml; default: NAME.yaml beside
    NAME.test.yaml), and has cases: events written as a risk officer says them
    (+30s position MNQ long 2 @ 21000), or a recorded events_file, and what must
    happen (the decisions in order, nothing, or facts at instants). The events go
    through the dry-run's pipeline: what passes is what the daemon would decide.
    Its JSON Schema: riskrail schema --tests.
    \b
    Exit codes:
      0  every case passed
      1  a case failed
      2  an invalid test file or ruleset (path:line:col)
     64  usage error
    """
    as_text = output_format == "text"
    shown: dict[str, bool] = {}

    def progress(path: str, result: CaseResult | None) -> None:
        if not as_text or verbose:
            if as_text and result is not None:
                outcome = "ERROR" if result.invalid else "PASSED" if result.passed \
                    else "FAILED"
                click.echo(f"{path}:{result.line}: {result.name} {outcome}")
            return
        if path not in shown:
            if shown:
                click.echo()
            click.echo(f"{path} ", nl=False)
            shown[path] = True
        if result is None:
            click.echo("E", nl=False)
        else:
            click.echo("E" if result.invalid else "." if result.passed else "F", nl=False)

    if engine == "durable" and not durable_available():
        click.echo(f"error: {DURABLE_MISSING}", err=True)
        sys.exit(exitcodes.INVALID)
    run = _collect(paths, name_filter, progress, make_engine(engine))
    if as_text and shown:
        click.echo()
    results = run.results
    failed = [r for r in results if not r.passed and not r.invalid]
    passed = [r for r in results if r.passed]
    covered = coverage(run.files)
    if junit_path is not None:
        _junit(run, junit_path)
    if output_format == "json":
        click.echo(json.dumps({
            "cases": [r.to_dict() for r in results if not r.invalid],
            "errors": [{"path": d.path, "line": d.line, "column": d.column,
                        "severity": d.severity, "message": d.message} for d in run.errors],
            "summary": {"passed": len(passed), "failed": len(failed),
                        "errors": len(run.errors)},
            "coverage": [c.to_dict() for c in covered]}, indent=2))
    elif output_format == "github":
        click.echo(format_github(run.errors, "riskrail test"), nl=False)
        for result in failed:
            failure = Diagnostic(result.file, result.line, result.column, "error",
                                 f"{result.name}: " + "\n".join(result.failures))
            click.echo(format_github([failure], "riskrail test"), nl=False)
    else:
        if run.errors:
            click.echo("\nERRORS")
            click.echo(format_text(run.errors), nl=False)
        if failed:
            click.echo("\nFAILURES")
            for result in failed:
                click.echo(f"___ {result.file}:{result.line}: {result.name} ___")
                click.echo(_failure_text(result))
                click.echo()
    if not results and not run.errors and name_filter:
        click.echo(f"error: no case name contains {name_filter!r}", err=True)
        sys.exit(exitcodes.USAGE)
    summary = [f"{len(failed)} failed"] if failed else []
    summary.append(f"{len(passed)} passed")
    if run.errors:
        summary.append(f"{len(run.errors)} error(s) in {len(run.invalid_files) or 1} file(s)")
    if as_text:
        click.echo("\n" + ", ".join(summary))
        for line in _coverage_text(covered):
            click.echo(line)
    else:
        click.echo(", ".join(summary), err=True)
    if run.errors:
        sys.exit(exitcodes.INVALID)
    sys.exit(exitcodes.FOUND if failed else exitcodes.OK)
