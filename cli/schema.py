"""``riskrail schema``: print the ruleset JSON Schema."""

from __future__ import annotations

import json

import click
from riskrail.engine.ruleset.schema import build_schema


@click.command()
@click.option("--format", "output_format", type=click.Choice(["json"]), default="json",
              show_default=True, help="The schema is JSON (the option is there for scripts "
                                      "that give --format json to every command).")
@click.option("--tests", is_flag=True,
              help="The schema of rule test files (*.test.yaml, riskrail test) instead.")
def schema(output_format: str, tests: bool) -> None:
    """Print the ruleset JSON Schema (draft-07), for editors and tooling; with --tests,
    the schema of rule test files."""
    del output_format
    if tests:
        from riskrail.engine.ruletest import build_test_schema

        click.echo(json.dumps(build_test_schema(), indent=2))
        return
    click.echo(json.dumps(build_schema(), indent=2))
