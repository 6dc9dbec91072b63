"""A model-based property test of enforcement, live: hypothesis generates trader sessions
(market and limit buys in three roots, sizes, limit orders filled later, partial fills,
sells between batches, pauses) and Gateway faults on the closing calls ("Operation
failed", 500 before or after applying the call, no answer in time); each runs against the
simulator with the daemon and the real SDK, under an account cap (RULE-001) and a per-root
cap (RULE-002). After every batch settles:

(a) no constraint is left breached once its calls have completed;
(b) the account holds exactly what the caps allow of what the trader bought (minimal
    intervention: never smaller than the tightest constraint allows, nothing closed that
    no constraint required);
(c) no Gateway call was sent twice for one desired state: between two trader fills of a
    contract, one (partial) close of it, another only after the first failed;
(d) replaying the recording gives the same decisions and the same planned calls.

``make test`` runs a few sessions; ``make enforce-fuzz`` many more.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from daemon_testkit import (
    BUY,
    ES,
    LIMIT,
    MNQ,
    SELL,
    SESSION_TIME,
    daemon_in_process,
    positions,
    replay_matches,
    write_ruleset,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.daemon.service import RiskDaemon
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e

ACCOUNT = 1001
MYM = "CON.F.US.MYM.H26"
CONTRACTS = {"MNQ": MNQ, "ES": ES, "MYM": MYM}
ROOT_OF = {MNQ: "MNQ", ES: "ES", MYM: "MYM"}
BASE = {"MNQ": 21500.0, "ES": 5200.0, "MYM": 39000.0}
TICK = {"MNQ": 0.25, "ES": 0.25, "MYM": 1.0}
FAST = {"attempt_timeout": 0.5, "call_deadline": 3.0, "retry_base": 0.1, "retry_max": 0.4,
        "reconcile_every": 1.0}
FAULT_MODES = {"Operation failed": {"mode": "success_false", "message": "Operation failed"},
               "500": {"mode": "http500"}, "500 after": {"mode": "http500_after"},
               "timeout": {"mode": "hang", "seconds": 1.0}}
ENDPOINTS = ("Position/partialCloseContract", "Position/closeContract")


# ---------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class Buy:
    root: str
    size: int
    limit: bool  # a buy limit below the market, filled by a later FillLimits


@dataclass(frozen=True)
class FillLimits:
    root: str


@dataclass(frozen=True)
class Fault:
    endpoint: str
    kind: str


@dataclass(frozen=True)
class Parts:
    n: int  # orders fill in this many parts from now on


@dataclass(frozen=True)
class Pause:
    seconds: float


Step = Buy | FillLimits | Fault | Parts | Pause


@dataclass(frozen=True)
class Batch:
    sell: tuple[str, int] | None  # the trader sells this much first (then all settles)
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Session:
    account_cap: int
    root_cap: int
    batches: tuple[Batch, ...]


roots = st.sampled_from(sorted(CONTRACTS))
steps = st.one_of(
    st.builds(Buy, roots, st.integers(1, 5), st.booleans()),
    st.builds(FillLimits, roots),
    st.builds(Fault, st.sampled_from(ENDPOINTS), st.sampled_from(sorted(FAULT_MODES))),
    st.builds(Parts, st.integers(1, 3)),
    st.builds(Pause, st.sampled_from([0.0, 0.05, 0.2])),
)
batches = st.builds(Batch, st.none() | st.tuples(roots, st.integers(1, 3)),
                    st.lists(steps, min_size=1, max_size=6).map(tuple))
sessions = st.builds(Session, st.integers(3, 6), st.integers(2, 4),
                     st.lists(batches, min_size=1, max_size=3).map(tuple))


# ---------------------------------------------------------------------- the oracle


def allowed_total(held: Counter[str], session: Session) -> int:
    """What the caps allow of ``held`` (per contract): each root at most root_cap, the
    account at most account_cap."""
    by_root: Counter[str] = Counter()
    for contract, size in held.items():
        by_root[ROOT_OF[contract]] += size
    return min(session.account_cap, sum(min(session.root_cap, n) for n in by_root.values()))


def holdings(sim: Simulator) -> Counter[str]:
    out: Counter[str] = Counter()
    for contract, (side, size) in positions(sim, ACCOUNT).items():
        assert side == 1, f"a long-only session went short in {contract}"
        out[contract] = size
    return out


def trader_bought(sim: Simulator, orders: set[int], since: int) -> Counter[str]:
    """Contracts the trader's own fills bought (sold: negative) from trade ``since`` on."""
    out: Counter[str] = Counter()
    for fill in sim.state()["trades"][since:]:
        if fill["orderId"] in orders:
            out[fill["contractId"]] += fill["size"] if fill["side"] == BUY else -fill["size"]
    return out


async def settle(daemon: RiskDaemon, sim: Simulator) -> None:
    """Until nothing is in flight, no cap is held unmet, and the account is still."""
    assert daemon.pipeline is not None
    reconciler = daemon.pipeline.reconciler
    deadline = time.monotonic() + 20
    still_since, last = time.monotonic(), positions(sim, ACCOUNT)
    while True:
        now = positions(sim, ACCOUNT)
        if now != last:
            still_since, last = time.monotonic(), now
        quiet = (daemon.queue.empty() and not reconciler.flights(ACCOUNT)
                 and not [c for c in reconciler.constraints(ACCOUNT) if not c.lasting])
        if quiet and time.monotonic() - still_since > 0.4:
            return
        assert time.monotonic() < deadline, (
            f"did not settle: flights {[f.call.describe() for f in reconciler.flights()]}, "
            f"constraints {[c.describe() for c in reconciler.constraints(ACCOUNT)]}")
        await asyncio.sleep(0.05)


def no_call_twice(tmp: Path, rules: Path, trader_orders: set[int]) -> None:
    """(c): replaying the recording (which plans the daemon's very calls, (d)), a call is
    never planned again for the same desired state (the same constraint, the same call)
    while the earlier one is in flight and may still land: only once it failed (refused,
    uncertain, abandoned) or settled, or the trader traded that contract since (a new
    excess of the same size)."""
    ruleset, _ = load_ruleset([str(rules)])
    planned: dict[str, list[tuple[str, frozenset[int], str]]] = {}  # contract -> calls
    failed: set[str] = set()
    problems: list[str] = []
    current: dict[str, Any] = {}

    def lines() -> Any:
        with open(tmp / "session.jsonl", encoding="utf-8") as handle:
            for text in handle:
                line = json.loads(text)
                current.clear()
                current.update(line)
                data = line.get("data")
                if line["type"] == "GatewayUserTrade" and isinstance(data, dict) \
                        and data.get("orderId") in trader_orders:
                    planned.pop(data.get("contractId"), None)  # the trader moved it
                if line["type"] == "Enforcement" and isinstance(data, dict) \
                        and data.get("status") in ("refused", "uncertain", "abandoned"):
                    failed.add(str(data.get("call")))
                yield text

    def on_step(step: Any) -> None:
        for settled in step.plan.settled:
            for calls in planned.values():
                calls[:] = [c for c in calls if c[0] != settled.flight.call.id]
        for call in step.plan.calls:
            if call.contract is None:
                continue
            earlier = planned.setdefault(call.contract, [])
            serves = frozenset(call.serves)
            for call_id, served, text in earlier:
                if text == call.describe() and served & serves and call_id not in failed:
                    problems.append(f"{text} ({call.id}) at {current.get('ts')}: "
                                    f"{call_id} for the same desired state is in flight")
            earlier.append((call.id, serves, call.describe()))

    replay(lines(), ruleset, on_step=on_step)
    assert not problems, problems


# ---------------------------------------------------------------------- one session


async def play(session: Session, tmp: Path) -> None:
    sim = Simulator(random_walk=False, spread_ticks=0, seed=1)
    await sim.start()
    try:
        sim.clock_to(SESSION_TIME)
        rules = write_ruleset(tmp / "rules.yaml", {
            "RULE-001": {"limit": session.account_cap},
            "RULE-002": {"default_limit": session.root_cap, "limits": {}}})
        trader_orders: set[int] = set()
        limits: dict[str, list[float]] = {}

        def order(contract: str, side: int, size: int, kind: int = 2,
                  limit: float | None = None) -> None:
            placed = sim.exchange.place_order(ACCOUNT, contract, kind, side, size, limit,
                                              None, None, None)
            trader_orders.add(int(placed.id))

        async with daemon_in_process(sim, tmp, [rules], daemon_options=FAST) as daemon:
            for batch in session.batches:
                if batch.sell is not None:
                    contract = CONTRACTS[batch.sell[0]]
                    held = holdings(sim)[contract]
                    if held:
                        order(contract, SELL, min(batch.sell[1], held))
                    await settle(daemon, sim)
                start, fills = holdings(sim), len(sim.state()["trades"])
                for step in batch.steps:
                    if isinstance(step, Buy):
                        contract = CONTRACTS[step.root]
                        if step.limit:
                            price = BASE[step.root] - 4 * TICK[step.root]
                            order(contract, BUY, step.size, LIMIT, price)
                            limits.setdefault(step.root, []).append(price)
                        else:
                            order(contract, BUY, step.size)
                    elif isinstance(step, FillLimits) and limits.get(step.root):
                        sim.set_price(step.root, min(limits.pop(step.root)))
                        sim.set_price(step.root, BASE[step.root])
                    elif isinstance(step, Fault):
                        spec = dict(FAULT_MODES[step.kind])
                        sim.inject_failure(step.endpoint, spec.pop("mode"), count=1, **spec)
                    elif isinstance(step, Parts):
                        sim.exchange.fill_parts = step.n
                    elif isinstance(step, Pause):
                        await asyncio.sleep(step.seconds)
                await settle(daemon, sim)
                sim.clear_failures()  # an unused fault must not meet the next batch
                held = holdings(sim)
                wanted = start + trader_bought(sim, trader_orders, fills)
                # (a) every cap holds
                by_root: Counter[str] = Counter()
                for contract, size in held.items():
                    by_root[ROOT_OF[contract]] += size
                assert max(by_root.values(), default=0) <= session.root_cap, held
                assert sum(held.values()) <= session.account_cap, held
                # (b) exactly what the caps allow: nothing closed that none required
                assert sum(held.values()) == allowed_total(wanted, session), (held, wanted)
        no_call_twice(tmp, rules, trader_orders)  # (c)
        live, again = replay_matches(tmp, rules)  # (d)
        assert again == live
    finally:
        await sim.stop()


EXAMPLES = 200 if os.environ.get("RISKRAIL_FUZZ") else 4


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("RISKRAIL_FUZZ"),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sessions)
def test_enforcement_against_the_simulator(session: Session) -> None:
    with tempfile.TemporaryDirectory(prefix="riskrail-model-") as folder:
        asyncio.run(asyncio.wait_for(play(session, Path(folder)), timeout=120))
