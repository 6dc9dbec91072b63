"""``riskrail docs``: the language reference (every name, fact, function and action)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from riskrail.cli import exitcodes
from riskrail.cli.paths import FileToWrite
from riskrail.engine.files import open_to_write
from riskrail.engine.reference import reference_data, reference_markdown


@click.command()
@click.option("--output", "-o", type=FileToWrite(path_type=Path),
              help="Write it to this file (make docs: docs/reference.md) instead of stdout.")
@click.option("--format", "output_format", type=click.Choice(["markdown", "json"]),
              default="markdown", show_default=True,
              help="markdown: docs/reference.md; json: the same as data, for tools.")
def docs(output: Path | None, output_format: str) -> None:
    """Print the language reference as Markdown: every name, fact, function and action a
    rule can use, generated from the code's own definitions."""
    text = reference_markdown() if output_format == "markdown" else \
        json.dumps(reference_data(), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        with open_to_write(output) as written:
            written.write(text)
    except OSError as error:  # a folder missing, a FIFO nobody reads: a traceback before
        click.echo(f"error: --output {output}: cannot write it ({error.strerror or error})",
                   err=True)
        sys.exit(exitcodes.USAGE)
