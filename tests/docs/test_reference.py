"""docs/reference.md is what ``riskrail docs`` generates from the code's own definitions,
and it documents every name, fact, function, session field and action there is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from riskrail.engine.actions import ACTION_OPTIONS, ACTIONS
from riskrail.engine.language.checker import FUNCTIONS, SESSION_FIELDS
from riskrail.engine.language.docs import FUNCTION_DOCS, SESSION_FIELD_DOCS
from riskrail.engine.reference import REFERENCE_PATH, reference_data, reference_markdown
from riskrail.engine.vocabulary import RECORDS, SCOPES

ROOT = Path(__file__).resolve().parents[2]
RISKRAIL = Path(sys.executable).with_name("riskrail")


def test_the_committed_reference_is_current() -> None:
    committed = (ROOT / REFERENCE_PATH).read_text(encoding="utf-8")
    assert committed == reference_markdown(), (
        f"{REFERENCE_PATH} is not what the code defines: run `make docs` and commit it")


def test_every_function_and_session_field_is_documented() -> None:
    assert set(FUNCTIONS) - set(FUNCTION_DOCS) == set(), \
        "document each new function in engine/language/docs.py (FUNCTION_DOCS)"
    assert set(FUNCTION_DOCS) - set(FUNCTIONS) == set(), "documented, but not a function"
    assert set(SESSION_FIELDS) == set(SESSION_FIELD_DOCS)
    for name, entry in FUNCTION_DOCS.items():
        assert entry.signature.startswith(f"{name}("), name
        assert entry.doc and entry.returns, name


def test_the_reference_names_everything_a_rule_can_use() -> None:
    text = reference_markdown()
    for name, record in RECORDS.items():
        for field in record.fields:
            assert f"| `{name}.{field}` |" in text, f"{name}.{field}"
    for scope in SCOPES:
        assert f"| `{scope}` |" in text
    for function in FUNCTIONS:
        assert f"`{function}(" in text, function
    for field in SESSION_FIELDS:
        assert f"| `.{field}` |" in text, field
    for action in ACTIONS:
        assert text.count(f"| `{action}` |") == 2, action  # arguments, and the Gateway
    for option in ACTION_OPTIONS:
        assert f"| `{option.name}` |" in text, option.name
    assert "NOT DOCUMENTED" not in text


def test_riskrail_docs_prints_and_writes_it(tmp_path: Path) -> None:
    printed = subprocess.run([str(RISKRAIL), "docs"], capture_output=True, text=True,
                             timeout=60, check=True)
    assert printed.stdout == reference_markdown()
    target = tmp_path / "reference.md"
    subprocess.run([str(RISKRAIL), "docs", "--output", str(target)], capture_output=True,
                   timeout=60, check=True)
    assert target.read_text(encoding="utf-8") == reference_markdown()


def test_riskrail_docs_format_json_is_the_same_reference_as_data() -> None:
    printed = subprocess.run([str(RISKRAIL), "docs", "--format", "json"], capture_output=True,
                             text=True, timeout=60, check=True)
    data = json.loads(printed.stdout)
    assert data == json.loads(json.dumps(reference_data()))
    assert set(data["functions"]) == set(FUNCTIONS) and None not in data["functions"].values()
    assert set(data["actions"]) == set(ACTIONS)
    assert {f"{r}.{f}" for r, rec in data["facts"].items() for f in rec["fields"]} == {
        f"{r}.{f}" for r, rec in RECORDS.items() for f in rec.fields}
    assert data["facts"]["position"]["fields"]["age"]["macro"] == "now - {self}.opened_at"
