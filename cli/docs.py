"""``riskrail docs``: the language reference (every name, fact, function and action)."""

from __future__ import annotations

from pathlib import Path

import click
from riskrail.engine.reference import reference_markdown


@click.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write it to this file (make docs: docs/reference.md) instead of stdout.")
def docs(output: Path | None) -> None:
    """Print the language reference as Markdown: every name, fact, function and action a
    rule can use, generated from the code's own definitions."""
    text = reference_markdown()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
