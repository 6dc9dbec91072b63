"""``riskrail schema``: print the ruleset JSON Schema."""

from __future__ import annotations

import json

import click
from riskrail.engine.ruleset.schema import build_schema


@click.command()
@click.option("--format", "output_format", type=click.Choice(["json"]), default="json",
              show_default=True, help="The schema is JSON (the option is there for scripts "
                                      "that give --format json to every command).")
def schema(output_format: str) -> None:
    """Print the ruleset JSON Schema (draft-07), for editors and tooling."""
    del output_format
    click.echo(json.dumps(build_schema(), indent=2))
