"""The durable_rules worker process: ``python -m riskrail.engine.durable.child``.

Only this process imports durable_rules; the protocol is described in worker.py.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import IO, Any

__all__ = ["serve"]


def serve(stdin: IO[str], stdout: IO[str]) -> None:  # pragma: no cover - runs in the child
    """The worker's loop (``python -m riskrail.engine.durable.child``)."""

    def answer(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    first = stdin.readline()
    if not first.startswith("L "):
        answer("E expected a load request")
        return
    _, prefix, definitions = first.rstrip("\n").split(" ", 2)
    try:
        import durable_rules_engine as core  # type: ignore[import-not-found]
        from durable import engine as durable_engine  # type: ignore[import-not-found]
    except Exception as error:  # missing, or Python 3.13
        answer(f"E cannot import durable_rules: {type(error).__name__}: {error}")
        return

    fired: list[str] = []

    def record(name: str) -> Callable[[Any], None]:
        def run(closure: Any) -> None:
            fired.append(name)
        return run

    names = [name for name in _rule_names(definitions)]

    class TextRuleset(durable_engine.Ruleset):  # type: ignore[misc]
        """A ruleset created from JSON text (its numbers formatted for durable's parser)."""

        def __init__(self, name: str) -> None:
            self._actions = {rule: durable_engine.Promise(record(rule)) for rule in names}
            self._name = name
            self._host = None
            self._handle = core.create_ruleset(name, definitions)
            self._definition = definitions

    failures: list[Any] = []

    def completed(error: Any, state: Any) -> None:
        failures.append(error)

    shards: dict[str, Any] = {}
    answer("R")
    for line in stdin:
        try:
            _, shard, rule, fact = line.rstrip("\n").split(" ", 3)
            ruleset = shards.get(shard)
            if ruleset is None:
                ruleset = shards[shard] = TextRuleset(f"{prefix}_{shard}")
            fired.clear()
            result = core.assert_fact(ruleset._handle, fact)
            if result[0] == 0:
                failures.clear()
                ruleset.do_actions(result[1], completed)
                if failures and failures[0] is not None:
                    raise RuntimeError(f"action failed: {failures[0]}")
            elif result[0] != 1:  # 1: no rule matched
                raise RuntimeError(f"assert_fact returned {result[0]}")
            core.retract_fact(ruleset._handle, fact)
            answer("1" if f"r{rule}" in fired else "0")
        except Exception as error:
            answer(f"E {type(error).__name__}: {error}".replace("\n", " "))


def _rule_names(definitions: str) -> list[str]:
    loaded = json.loads(definitions)
    return list(loaded) if isinstance(loaded, dict) else []


if __name__ == "__main__":  # pragma: no cover - the worker process
    serve(sys.stdin, sys.stdout)
