"""``riskrail validate PATH...``: schema, expression and semantic checks."""

from __future__ import annotations

import sys

import click
from riskrail.engine.ruleset.build import check_paths, ruleset_files
from riskrail.engine.ruleset.diagnostics import format_json, format_text


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text: path:line:col: severity: message; json: a list.")
def validate(paths: tuple[str, ...], output_format: str) -> None:
    """Check ruleset files (or every *.yaml/*.yml in folders) and report every problem.

    \b
    Each problem goes to stdout as  path:line:col: error|warning: message
    (with --format json: a JSON list of {path, line, column, severity, message});
    the text format's summary line goes to stderr.
    Exit codes:
      0  valid (warnings allowed)
      2  invalid: at least one error (or a missing file), or a usage error
    """
    diagnostics = check_paths(paths)
    errors = [d for d in diagnostics if d.severity == "error"]
    if output_format == "json":
        click.echo(format_json(diagnostics), nl=False)
    else:
        click.echo(format_text(diagnostics), nl=False)
        files = len([f for f in ruleset_files(paths) if f.is_file()])
        warnings = len(diagnostics) - len(errors)
        summary = (f"{files} file(s) checked: {len(errors)} error(s), {warnings} warning(s)")
        click.echo(summary, err=True)
    sys.exit(2 if errors else 0)
