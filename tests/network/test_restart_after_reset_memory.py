"""Memory saved at the reset: a rule's activation kept across the reset by a daemon that
ran through it is kept by a restart later that new day too.

restore_memory gives back no activation of the account's rules from memory saved on an
earlier trading day (the reset came while riskrail was down: breakit21). The daemon saves
an account's memory only when it changed (persistence.save_memory, not final); an
activation that holds across the reset changes nothing then, so without a save at the
reset the memory still said the day before, and a daemon that ran through the reset and
died later that day lost the activation at its restart: the rule fired again, here a
second lockout until the next reset that the daemon never restarted would not make."""

from __future__ import annotations

from pathlib import Path

from riskrail.daemon.persistence import LockoutSync, restore_state, save_memory
from riskrail.daemon.store import StateStore
from riskrail.engine.clock import SimulatedClock, parse_instant
from riskrail.engine.events import normalize
from riskrail.engine.network.decisions import Decision
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset

FLOOR = """
name: floor
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: UNDER-THE-FLOOR
    for_each: account
    condition: account.balance < 49000
    actions:
      - lockout: {until: clock.next_reset}
"""


def at(clock: str) -> int:
    return int(parse_instant(f"2026-03-10T{clock}-05:00"))


class Daemon:
    """A network and the state store, kept as the daemon keeps them after each unit."""

    def __init__(self, rules: Path, store: StateStore, now: int, restart: bool) -> None:
        self.clock = SimulatedClock(now)
        self.network = RuleNetwork(load_ruleset([rules])[0], self.clock)
        self.store, self.sync = store, LockoutSync(store)
        self.decisions: list[Decision] = []
        if restart:
            restore_state(self.network, store, self.sync, now)

    def keep(self) -> None:
        now = self.clock.now()
        self.sync.sync(self.network, 1, now)
        save_memory(self.network, self.store, now)  # only what changed, as each unit

    def to(self, clock: str) -> None:
        self.decisions += self.network.advance(at(clock))
        self.clock.set(at(clock))
        self.keep()

    def balance(self, clock: str, amount: float) -> None:
        self.to(clock)
        data = {"id": 1, "name": "SIM-1", "balance": amount, "canTrade": True}
        for event in normalize("GatewayUserAccount", data, at(clock), None):
            self.decisions += self.network.process(event)
        self.keep()

    def locks(self) -> list[str]:
        return [d.action for d in self.decisions if d.action == "lockout"]


def test_a_restart_later_on_the_new_day_keeps_the_activation_held_over_the_reset(
        tmp_path: Path) -> None:
    rules = tmp_path / "floor.yaml"
    rules.write_text(FLOOR)
    store = StateStore(tmp_path / "state.db")
    first = Daemon(rules, store, at("15:00:00"), restart=False)
    first.balance("15:00:01", 50000.0)
    first.balance("16:00:00", 48000.0)
    assert first.locks() == ["lockout"]  # until 17:00
    first.to("17:00:01")  # through the reset: the condition holds, nothing new
    first.to("17:30:00")
    assert first.locks() == ["lockout"]
    # it dies at 17:30 (no final save); started again at 17:40, the balance read unchanged
    second = Daemon(rules, store, at("17:40:00"), restart=True)
    second.balance("17:40:01", 48000.0)
    assert second.locks() == []
