"""``riskrail validate PATH...``: schema, expression and semantic checks."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from riskrail.cli import exitcodes
from riskrail.engine.language.limits import MAX_FILE_BYTES
from riskrail.engine.ruleset.build import check_paths, ruleset_files
from riskrail.engine.ruleset.diagnostics import (
    format_github,
    format_json,
    format_text,
)
from riskrail.engine.ruleset.diagnostics import (
    strict as as_errors,
)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--format", "output_format", type=click.Choice(["text", "json", "github"]),
              default="text", show_default=True,
              help="text: path:line:col: severity: message; json: a list; github: GitHub "
                   "Actions annotations (::error file=...,line=...,col=...::message).")
@click.option("--strict", is_flag=True, help="Warnings are errors (exit 2).")
@click.option("--stdin-filename", default="<stdin>", show_default=True, metavar="PATH",
              help="The name to report for a ruleset read from stdin (PATH -).")
def validate(paths: tuple[str, ...], output_format: str, strict: bool,
             stdin_filename: str) -> None:
    """Check ruleset files (or every *.yaml/*.yml directly in folders, rule tests
    *.test.yaml aside; a folder's files are one ruleset) and report every problem;
    - reads one ruleset from stdin.

    \b
    Each problem goes to stdout as  path:line:col: error|warning: message
    (with --format json: a JSON list of {path, line, column, severity, message};
    with --format github: one GitHub Actions annotation a line);
    the text and github formats' summary line goes to stderr.
    Exit codes:
      0  valid (warnings allowed, unless --strict)
      2  invalid: at least one error (or a missing file)
     64  usage error
    """
    texts: dict[str, str] = {}
    if "-" in paths:
        # at most one byte past the file-size limit (refused as too large): reading all of
        # it hung on an endless stdin (< /dev/zero)
        raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        texts[stdin_filename] = raw.decode("utf-8", errors="replace")
        paths = tuple(stdin_filename if p == "-" else p for p in paths)
    # today's date decides whether a session's holiday data runs out soon (a warning)
    diagnostics = check_paths(paths, texts, today=datetime.now(UTC).date())
    if strict:
        diagnostics = as_errors(diagnostics)
    errors = [d for d in diagnostics if d.severity == "error"]
    if output_format == "json":
        click.echo(format_json(diagnostics), nl=False)
    else:
        click.echo((format_github(diagnostics, "riskrail validate") if output_format == "github"
                    else format_text(diagnostics)), nl=False)
        files = len([f for f in ruleset_files(paths) if str(f) in texts or f.is_file()])
        warnings = len(diagnostics) - len(errors)
        summary = (f"{files} file(s) checked: {len(errors)} error(s), {warnings} warning(s)")
        click.echo(summary, err=True)
    sys.exit(exitcodes.INVALID if errors else exitcodes.OK)
