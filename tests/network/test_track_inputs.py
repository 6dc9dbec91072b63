"""What a tracked value is includes the values of the params and sessions its expressions
read (CompiledTrack.inputs): a hot reload or a restart that changes one starts the value
afresh, as a changed expression does; a change of anything else keeps it; memory saved by
a riskrail that kept no inputs is carried on. The daemon's reload names the tracks it
starts afresh (daemon.reload.tracks_afresh). The live reload and restart:
tests/daemon/test_tracks_across_reloads.py."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from riskrail.daemon.reload import tracks_afresh
from riskrail.engine.clock import SimulatedClock
from riskrail.engine.events import normalize
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset

MICROS = 1_000_000
START = 1_800_000_000 * MICROS  # a fixed instant (2027-01-15), never today

TEXT = """
name: inputs
trading_day: {reset: "17:00", timezone: America/Chicago}
sessions:
  lunch: {start: "12:00", end: "13:00", timezone: America/Chicago,
          holidays: [%(holidays)s]}
rules:
  - id: A
    params: {k: %(k)s, limit: %(limit)s}
    track:
      x: {max: "account.balance * params.k", over: life}
      plain: {max: account.balance, over: life}
      in_lunch: {max: account.balance, where: sessions.lunch.is_open, over: life}
    condition: x > params.limit and plain > 0 and in_lunch != 1
    actions: [cancel_orders]
%(accounts)s
"""


def rules(k: int = 1, limit: int = 1000, holidays: str = "2027-01-01, 2027-12-24",
          accounts: str = "") -> Ruleset:
    text = TEXT % {"k": k, "limit": limit, "holidays": holidays, "accounts": accounts}
    return load_ruleset(["inputs.yaml"], texts={"inputs.yaml": text})[0]


def balance(network: RuleNetwork, at: int, value: float) -> None:
    for event in normalize("GatewayUserAccount", {"id": 1, "name": "a", "balance": value,
                                                  "canTrade": True}, at, None):
        network.process(event)


def saved(ruleset: Ruleset) -> dict[str, Any]:
    clock = SimulatedClock(START)
    network = RuleNetwork(ruleset, clock)
    balance(network, START, 60.0)
    return network.export_memory(1)


def restored(ruleset: Ruleset, memory: dict[str, Any]) -> dict[str, Any]:
    network = RuleNetwork(ruleset, SimulatedClock(START + MICROS))
    network.restore_memory(1, memory)
    return {key: state.current for key, state in network.accounts[1].tracker.states.items()}


KEPT = {"A/x": 60.0, "A/plain": 60.0, "A/in_lunch": None}


def test_a_restart_with_the_same_inputs_keeps_every_value() -> None:
    assert restored(rules(), saved(rules())) == KEPT


def test_a_restart_with_a_changed_param_a_track_reads_starts_that_track_afresh() -> None:
    values = restored(rules(k=2), saved(rules()))
    assert values == {**KEPT, "A/x": None}


def test_a_restart_with_a_changed_param_no_track_reads_keeps_them() -> None:
    assert restored(rules(limit=5), saved(rules())) == KEPT


def test_a_restart_with_a_changed_session_a_track_reads_starts_that_track_afresh() -> None:
    memory = saved(rules())
    memory["tracked"]["values"]["A/in_lunch"]["state"] = {"current": 7.0, "base": 7.0}
    assert restored(rules(), memory)["A/in_lunch"] == 7.0
    assert restored(rules(holidays="2027-01-01"), memory)["A/in_lunch"] is None


def test_memory_saved_without_inputs_by_an_older_riskrail_is_carried_on() -> None:
    memory = saved(rules())
    for value in memory["tracked"]["values"].values():
        assert "inputs" in value
        del value["inputs"]
    assert restored(rules(k=2), memory) == KEPT


def test_a_hot_reload_keeps_or_starts_afresh_as_a_restart_does() -> None:
    clock = SimulatedClock(START)
    network = RuleNetwork(rules(), clock)
    balance(network, START, 100.0)
    clock.set(START + MICROS)
    balance(network, START + MICROS, 10.0)
    network.swap_ruleset(rules(limit=5))
    states = network.accounts[1].tracker.states
    assert states["A/x"].current == 100.0
    network.swap_ruleset(rules(k=3))
    states = network.accounts[1].tracker.states
    # sampled again at once, from nothing: 10 * 3, not the 100 taken with k: 1
    assert states["A/x"].current == 30.0 and states["A/plain"].current == 100.0


def test_the_reload_names_what_it_starts_afresh_and_why() -> None:
    assert tracks_afresh(rules(), rules(limit=5)) == {}
    assert tracks_afresh(rules(), rules(k=2)) == {"A/x": ["params.k"]}
    assert tracks_afresh(rules(), rules(holidays="2027-01-01")) == {
        "A/in_lunch": ["sessions.lunch"]}
    # an account's override: its own variant changed, the default not
    override = "accounts:\n  a: {A: {k: %s}}"
    assert tracks_afresh(rules(accounts=override % 2), rules(accounts=override % 5)) == {
        "A/x": ["params.k"]}
    assert tracks_afresh(rules(accounts=override % 2), rules(accounts=override % 2)) == {}
    # the track written otherwise: its definition changed, no param to name
    other = rules()
    text = (TEXT % {"k": 1, "limit": 1000, "holidays": "2027-01-01, 2027-12-24",
                    "accounts": ""}).replace("over: life}\n      plain", "over: week}\n      plain")
    assert tracks_afresh(other, load_ruleset(["inputs.yaml"], texts={"inputs.yaml": text})[0]
                         ) == {"A/x": []}


def test_the_inputs_text_is_the_same_in_every_process() -> None:
    """A restart compares the text saved by another process: no set's order (a session's
    holidays are a frozenset of dates, whose order changes with PYTHONHASHSEED)."""
    program = ("import sys\n"
               "from riskrail.engine.ruleset.build import load_ruleset\n"
               "text = sys.stdin.read()\n"
               "ruleset = load_ruleset(['inputs.yaml'], texts={'inputs.yaml': text})[0]\n"
               "rule = ruleset.rules[0].default\n"
               "print([t.inputs_text for t in rule.tracks if t.name == 'in_lunch'][0])\n")
    text = TEXT % {"k": 1, "limit": 1000, "holidays": ", ".join(
        f"2027-{month:02d}-{day:02d}" for month in range(1, 13) for day in (1, 9, 17, 25)),
        "accounts": ""}
    texts = {subprocess.run([sys.executable, "-c", program], input=text, text=True,
                            capture_output=True, check=True, timeout=60,
                            env={**os.environ, "PYTHONHASHSEED": seed}).stdout
             for seed in ("0", "1", "2", "3")}
    assert len(texts) == 1, texts
    assert "datetime.date(2027, 12, 25)" in texts.pop()
