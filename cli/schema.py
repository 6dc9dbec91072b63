"""``riskrail schema``: print the ruleset JSON Schema."""

from __future__ import annotations

import json

import click
from riskrail.engine.ruleset.schema import build_schema


@click.command()
def schema() -> None:
    """Print the ruleset JSON Schema (draft-07), for editors and tooling."""
    click.echo(json.dumps(build_schema(), indent=2))
