"""The published JSON Schema: generated, valid draft-07, documented, printed by the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from jsonschema import Draft7Validator
from riskrail.cli.main import main
from riskrail.engine.ruleset.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "schemas" / "ruleset.schema.json"


def test_published_schema_is_the_generated_one() -> None:
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    assert published == build_schema(), (
        "schemas/ruleset.schema.json is stale: regenerate it with "
        "`.venv/bin/python -m riskrail.engine.ruleset.schema > schemas/ruleset.schema.json`")


def test_schema_is_valid_draft_07() -> None:
    Draft7Validator.check_schema(build_schema())
    assert build_schema()["$schema"] == "http://json-schema.org/draft-07/schema#"


def properties(schema: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, subschema) declared as a property or a map's value, recursively."""
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            yield f"{where}.{name}", sub
            yield from properties(sub, f"{where}.{name}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            yield f"{where}.*", extra
            yield from properties(extra, f"{where}.*")
        for key in ("items", "anyOf", "oneOf", "allOf"):
            value = schema.get(key)
            subs = value if isinstance(value, list) else [value] if value else []
            for index, sub in enumerate(subs):
                yield from properties(sub, f"{where}[{key}{index}]")


def test_every_property_has_a_description() -> None:
    found = list(properties(build_schema()))
    assert len(found) > 60
    missing = [path for path, sub in found if not (isinstance(sub, dict)
                                                    and sub.get("description"))]
    assert missing == []


def test_schema_command_prints_it() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == build_schema()
