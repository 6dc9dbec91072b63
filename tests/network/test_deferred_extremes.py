"""A running max or min of the net P&L is worked out from the contract's price trail when
the account is next read, not sampled at each new extreme (network.py, _Deferred and
RuleNetwork._fold): while the account's open P&L moves with one contract's price alone,
the value is monotonic in that price, so its extreme since the last sample is its value
at the lowest (or highest) price since, computed at that price as a sample would have
been. A quote wakes the account only where the value would reach a value the rules
reading it compare it with (the three tiers' liquidate-only tier: -750), no longer at each
new low of the day (0.16 accounts a quote in the bench before).

Differential: on generated Gateway streams (test_quote_filter_differential's, and ones
with long trends, so that a trail forgets prices and an extreme is worked out before),
the default network decides exactly what the same network sampling every new extreme
decides, and what the network without the price-trigger index decides, after every
event, and keeps the same memory (tracked values included) at the end; with the firm
presets, and rules comparing a trough and a peak with params and with the balance, and
one reading the trough in arithmetic (never deferred). Three deliberate breaks are
caught: the extreme taken at the latest price instead of the lowest, the comparisons'
values left out of the interval, and no working out before an event changes the account.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.engine.clock import SimulatedClock, to_iso
from riskrail.engine.events import normalize
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from test_quote_filter_differential import START, first_case, streams
from test_quote_filter_differential import ruleset as named_ruleset

MICROS = 1_000_000
EP = "CON.F.US.EP.H26"

EXTREME_RULES = """
name: extremes
trading_day: {reset: "17:00", timezone: America/Chicago}
params: {trough: -300}
rules:
  - id: TROUGH
    description: the day's lowest net P&L reached the trough
    track:
      low:
        min: account.realized_pnl_today + coalesce(account.unrealized_pnl, 0)
        over: trading_day
    condition: low <= params.trough
    actions:
      - alert: {message: "trough"}
  - id: TROUGH-ORDERS
    description: the same value, read by order (a pair per order, as the presets')
    for_each: order
    track:
      low:
        min: account.realized_pnl_today + coalesce(account.unrealized_pnl, 0)
        over: trading_day
    condition: low <= params.trough - 100 and order.is_opening
    actions:
      - cancel_order
  - id: PEAK-BALANCE
    description: the day's highest net P&L compared with a value the balance moves
    track:
      high:
        max: account.realized_pnl_today + coalesce(account.unrealized_pnl, 0)
        over: trading_day
    condition: high >= (account.balance - 49950) * 2
    actions:
      - alert: {message: "peak"}
  - id: LOW-ARITHMETIC
    description: a trough read in arithmetic (sampled at each new low, never deferred)
    track:
      low2:
        min: coalesce(account.unrealized_pnl, 0)
        over: trading_day
    condition: low2 * 2 <= -400
    actions:
      - alert: {message: "deep"}
"""

_EXTREMES = load_ruleset(["extremes.yaml"], texts={"extremes.yaml": EXTREME_RULES})[0]
NAMES = ["extremes", "tradovate", "tradovate-tiers", "tradovate-realtime", "topstep"]


def rules(name: str) -> Ruleset:
    return _EXTREMES if name == "extremes" else named_ruleset(name)


class _Sampled(RuleNetwork):
    """The same network sampling a running extreme at each new extreme (none deferred)."""

    def _deferred_bounds(self, account: Any, track: Any, ctx: Any, fresh: bool = True) -> Any:
        return None


@st.composite
def trends(draw: st.DrawFn) -> list[tuple[str, Any, str | None, int]]:
    """One account long or short ES, then long runs of quotes mostly one way (a trail
    forgetting its prices: more than 2 x holders + 64 kept), a fill or a push now and
    then, hours passing across a reset."""
    out: list[tuple[str, Any, str | None, int]] = [
        ("GatewayUserAccount", {"id": 1, "name": "SIM-1", "balance": 50_000.0,
                                "canTrade": True, "isVisible": True, "simulated": True},
         None, 0)]
    price, now, size = 5000.0, 0, 0
    side = draw(st.sampled_from([1, 2]))
    out.append(("GatewayQuote", {"lastPrice": price}, EP, now))
    for trade_id in range(1, draw(st.integers(1, 6)) + 1):
        now += MICROS
        quantity = draw(st.integers(1, 2))
        size += quantity
        out.append(("GatewayUserTrade", {
            "id": trade_id, "accountId": 1, "contractId": EP, "price": price,
            "profitAndLoss": None, "fees": 0.74, "side": 0 if side == 1 else 1,
            "size": quantity, "voided": False, "orderId": trade_id,
            "creationTimestamp": to_iso(START + now)}, None, now))
        out.append(("GatewayUserPosition", {
            "id": 1, "accountId": 1, "contractId": EP, "type": side, "size": size,
            "averagePrice": price, "creationTimestamp": to_iso(START)}, None, now))
        drift = draw(st.sampled_from([-1, 1]))
        for _ in range(draw(st.integers(20, 160))):
            now += MICROS
            price = round(price + 0.25 * (drift * draw(st.integers(0, 3))
                                          - drift * draw(st.integers(0, 1))), 2)
            out.append(("GatewayQuote", {"lastPrice": price}, EP, now))
        if draw(st.integers(0, 3)) == 0:
            now += draw(st.sampled_from([1, 7, 24])) * 3600 * MICROS
    return out


def differs(rules: Ruleset, events: list[tuple[str, Any, str | None, int]]) -> str | None:
    """Where the default network decides or keeps otherwise than the one sampling every
    new extreme or the unindexed one."""
    clocks = [SimulatedClock(START) for _ in range(3)]
    networks = [RuleNetwork(rules, clocks[0]), _Sampled(rules, clocks[1]),
                RuleNetwork(rules, clocks[2], price_index=False)]
    names = ("default", "sampled", "unindexed")
    for number, (kind, data, contract, at) in enumerate(events):
        ts = START + at
        decided = []
        for clock, network in zip(clocks, networks, strict=True):
            before = clock.now()
            made = [d.to_dict() for d in network.advance(ts)] if ts > before else []
            clock.set(max(ts, before))
            for event in normalize(kind, data, ts, contract):
                made += [d.to_dict() for d in network.process(event)]
            decided.append(made)
        for name, made in zip(names[1:], decided[1:], strict=True):
            if decided[0] != made:
                return (f"event {number} ({kind} {data}): default {decided[0]} != "
                        f"{name} {made}")
    for account in networks[2].accounts:
        memories = [network.export_memory(account) for network in networks]
        if memories[0] != memories[1] or memories[0] != memories[2]:
            return f"memory of account {account} differs: {memories}"
    return None


PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(st.sampled_from(NAMES), streams())
def test_deferred_extremes_decide_as_sampling_each_new_extreme(name: str,
                                                               events: list[Any]) -> None:
    assert differs(rules(name), events) is None


@PROPERTY
@given(st.sampled_from(["extremes", "tradovate-tiers"]), trends())
def test_deferred_extremes_over_long_trends(name: str, events: list[Any]) -> None:
    assert differs(rules(name), events) is None


def _broken_cases(name: str) -> Any:
    return st.tuples(st.just(name), st.one_of(streams(), trends()))


def test_an_extreme_taken_at_the_latest_price_is_caught(monkeypatch: Any) -> None:
    """Broken on purpose: the extreme since the last sample taken at the latest price,
    not the lowest (or highest) since."""
    from riskrail.engine.network.triggers import PriceTrail

    def latest(self: PriceTrail, seq: int, direction: int) -> float | None:
        return self.high_prices[-1] if self.high_prices and self.seq >= seq else None

    monkeypatch.setattr(RuleNetwork, "_fold", _fold_with(latest))
    found = first_case(_broken_cases("extremes"),
                       lambda case: differs(rules(case[0]), case[1]) is not None)
    monkeypatch.undo()
    assert differs(rules(found[0]), found[1]) is None  # exact again


def _fold_with(best_since: Any) -> Any:
    original = RuleNetwork._fold

    def fold(self: RuleNetwork, account: Any, now: int) -> list[str]:
        from riskrail.engine.network.triggers import PriceTrail
        kept = PriceTrail.best_since
        PriceTrail.best_since = best_since  # type: ignore[method-assign]
        try:
            return original(self, account, now)
        finally:
            PriceTrail.best_since = kept  # type: ignore[method-assign]
    return fold


def test_an_interval_leaving_out_the_compared_values_is_caught(monkeypatch: Any) -> None:
    """Broken on purpose: a deferred extreme's interval is unbounded (the values the
    rules compare it with left out): a quote reaching one wakes nothing."""
    original = RuleNetwork._deferred_bounds

    def unbounded(self: RuleNetwork, account: Any, track: Any, ctx: Any,
                  fresh: bool = True) -> Any:
        bounds = original(self, account, track, ctx, fresh)
        if bounds is not None:
            bounds.lo.clear()
            bounds.hi.clear()
        return bounds

    monkeypatch.setattr(RuleNetwork, "_deferred_bounds", unbounded)
    found = first_case(_broken_cases("extremes"),
                       lambda case: differs(rules(case[0]), case[1]) is not None)
    monkeypatch.undo()
    assert differs(rules(found[0]), found[1]) is None


def test_no_working_out_before_an_event_changes_the_account_is_caught(
        monkeypatch: Any) -> None:
    """Broken on purpose: an event's fact applied before the deferred extreme is worked
    out (the fill's realized P&L, then the prices since the last sample)."""
    original = RuleNetwork.account

    def account(self: RuleNetwork, account_id: int, name: str = "") -> Any:
        deferred, self._deferred = self._deferred, {}
        try:
            return original(self, account_id, name)
        finally:
            self._deferred = deferred

    monkeypatch.setattr(RuleNetwork, "account", account)
    found = first_case(_broken_cases("extremes"),
                       lambda case: differs(rules(case[0]), case[1]) is not None)
    monkeypatch.undo()
    assert differs(rules(found[0]), found[1]) is None


@pytest.mark.parametrize("side", [1, 2])
def test_a_new_low_of_the_day_costs_a_quote_no_cycle(side: int) -> None:
    """Counts, not times: on the Tradovate three tiers (liquidate-only tracked), one
    account holding ES and losing tick by tick (a new low of the day's net P&L at each
    quote) gets no quote cycle until the value nears a tier (the alert at -500); its
    lowest is then whole."""
    network = RuleNetwork(named_ruleset("tradovate-tiers"), clock := SimulatedClock(START))

    def push(kind: str, data: dict[str, Any], on: str | None = None) -> None:
        clock.set(clock.now() + MICROS)
        for event in normalize(kind, data, clock.now(), on):
            network.process(event)

    push("GatewayUserAccount", {"id": 1, "name": "SIM-1", "balance": 50_000.0,
                                "canTrade": True, "isVisible": True, "simulated": True})
    push("GatewayQuote", {"lastPrice": 5000.0}, EP)
    push("GatewayUserTrade", {
        "id": 1, "accountId": 1, "contractId": EP, "price": 5000.0, "profitAndLoss": None,
        "fees": 0.74, "side": 0 if side == 1 else 1, "size": 1, "voided": False,
        "orderId": 1, "creationTimestamp": to_iso(START)})
    push("GatewayUserPosition", {"id": 1, "accountId": 1, "contractId": EP, "type": side,
                                 "size": 1, "averagePrice": 5000.0,
                                 "creationTimestamp": to_iso(START)})
    cycles = network.counters.quote_cycles
    losing = -1 if side == 1 else 1
    for tick in range(1, 39):  # 38 ticks against the position (-475.74): no tier reached
        push("GatewayQuote", {"lastPrice": 5000.0 + losing * 0.25 * tick}, EP)
    assert network.counters.quote_cycles == cycles
    worst = network.export_memory(1)["tracked"]["values"]["LIQUIDATE-ONLY-FILLS/worst"]
    assert worst["state"] == -475.74
