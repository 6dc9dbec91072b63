"""The fact vocabulary: what a condition can read, its type, and what changes it.

Each field names the *topics* whose change can alter it (a topic with a record,
``account.positions``, is that record's: an order's position changes with the account's
positions). The rule network
indexes rules by the topics their conditions read, so an event re-evaluates only
the rules that read something it changed (docs/architecture.md section 3). A field fixed for
the life of its entity (a position's contract or side: a reversal is a new
position) names none; the network announces each new entity instead (topic
``created``), which every rule of that scope reads.

Fields marked as macros are written in the condition language itself
(``position.age`` is ``now - position.opened_at``), so time-dependent fields get
exact deadlines from the compiler rather than special cases in the network.
"""

from __future__ import annotations

from dataclasses import dataclass

from .language.types import (
    BOOL,
    DURATION,
    INSTANT,
    NUMBER,
    STRING,
    ListType,
    RecordType,
    Type,
)

__all__ = ["CLOCK_TOPIC", "OPEN_TOPIC", "RECORDS", "SCOPES", "TOPICS", "Field", "Record",
           "record_type"]

#: Topics the network announces when working memory changes. ``open``: what is open in
#: the account changed (a position's open quantity or average, one opened or closed by
#: fills no push shows yet, an unknown instrument): announced by a position push only
#: when it did, so that the account's open P&L is not judged again at every push that
#: left it as it was (a push confirming the fill that moved it already).
TOPICS = ("account", "positions", "prices", "orders", "trades", "lockouts", "feed", "created",
          "clock", "open")

#: What a condition reading the time reads (``now``, ``clock.*``, a session's fields,
#: macros such as ``position.age``): the network announces it when an account appears
#: and on a reload, and from then on re-evaluates the rule at the exact instants its
#: result can change (the deadlines its evaluation reports), in a replay as live. A
#: condition reading nothing else ("flatten at 15:55") is evaluated that way alone.
CLOCK_TOPIC = "account.clock"
#: What reading the account's open P&L reads besides prices (TOPICS: ``open``).
OPEN_TOPIC = "account.open"


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: Type
    topics: tuple[str, ...]
    doc: str
    #: If set, the field is this expression (``{self}`` is the record's name).
    macro: str | None = None


@dataclass(frozen=True, slots=True)
class Record:
    name: str
    doc: str
    fields: dict[str, Field]

    @property
    def type(self) -> RecordType:
        return RecordType(self.name)


def _record(name: str, doc: str, *fields: Field) -> Record:
    return Record(name, doc, {f.name: f for f in fields})


ACCOUNT = _record(
    "account",
    "The trading account the rule is evaluated for.",
    Field("id", NUMBER, (), "Gateway account id."),
    Field("name", STRING, ("account",), "Account name, e.g. SIM-50K or 50KTC-V2-123."),
    Field("balance", NUMBER, ("account",),
          "Balance in USD: the Gateway's last reported, with the net P&L of the fills known "
          "since (its account push comes after them); a move no known fill explains is held "
          "back up to 10 s while a position is open, for the fill of that amount to come. Each "
          "fill counts once in balance + unrealized_pnl, whatever the order of its pushes; "
          "0 before the Gateway reports one."),
    Field("can_trade", BOOL, ("account",), "The Gateway's canTrade flag."),
    Field("realized_pnl_today", NUMBER, ("trades",),
          "Realized P&L of the current trading day net of the fees of every fill, opening "
          "fills included (USD): the day's balance change."),
    Field("gross_realized_pnl_today", NUMBER, ("trades",),
          "Realized P&L of the current trading day before fees (USD)."),
    Field("fees_today", NUMBER, ("trades",),
          "Fees of the current trading day's fills, opening and closing (USD)."),
    Field("trades_today", NUMBER, ("trades",),
          "The trader's trades (fills, opening ones included, voided ones not) in the "
          "current trading day; the fills of riskrail's own orders are not counted."),
    Field("unrealized_pnl", NUMBER, ("open", "prices"),
          "Sum of the open positions' unrealized P&L (USD), of what is open once the fills "
          "known are applied: a closing fill stops counting as open the moment it is known, "
          "before or after its position push, never twice; none until every held contract "
          "has a quote."),
    Field("contracts_gross", NUMBER, ("positions",), "Sum of |size| over open positions."),
    Field("contracts_net", NUMBER, ("positions",), "|sum of long sizes - sum of short sizes|."),
    Field("position_count", NUMBER, ("positions",), "Number of open positions (contracts held)."),
    Field("newest_position_opened_at", INSTANT, ("positions",),
          "When the most recently opened position opened (none when flat)."),
    Field("last_position_change_at", INSTANT, ("positions",),
          "When a position last opened, grew, shrank or closed (at its fill, when the fill "
          "was known first)."),
    Field("working_orders", NUMBER, ("orders",), "Number of working (open) orders."),
    Field("long_exposure", NUMBER, ("positions", "orders"),
          "Long contracts held plus the working buy orders that would add to them (those "
          "closing a short count only past its size): what the long side may become."),
    Field("short_exposure", NUMBER, ("positions", "orders"),
          "Short contracts held plus the working sell orders that would add to them (those "
          "closing a long count only past its size)."),
    Field("locked", BOOL, ("lockouts",), "True while any account lockout or cooldown is active."),
    Field("locked_since", INSTANT, ("lockouts",),
          "Start of the current locked period (none when not locked)."),
    Field("locked_until", INSTANT, ("lockouts",),
          "Latest known end of the active lockouts (none when not locked or open-ended)."),
    Field("lock_reason", STRING, ("lockouts",), "Reason of the most recent active lockout."),
    Field("lock_mode", STRING, ("lockouts",),
          "What the account's lockouts leave allowed, the strictest: block (flat, no "
          "opening order), cooldown, reduce_only or no_new_entries (none when not locked)."),
    Field("connected", BOOL, ("feed",), "True while the realtime user feed is connected."),
    Field("feed_problem", STRING, ("feed",),
          "Why the feed is down: disconnected, auth_failed, ... (none when connected)."),
)

POSITION = _record(
    "position",
    "One open position: one contract of the account.",
    Field("contract", STRING, (), "Gateway contract id, e.g. CON.F.US.MNQ.H26."),
    Field("symbol", STRING, (), "Symbol root with aliases resolved (EP -> ES)."),
    Field("name", STRING, (), "Contract name, e.g. MNQH6."),
    Field("side", STRING, (), "'long' or 'short'."),
    Field("direction", NUMBER, (), "1 for long, -1 for short."),
    Field("size", NUMBER, ("positions",), "Contracts held (always positive)."),
    Field("size_before", NUMBER, ("positions",),
          "Contracts held before its latest change (0 when that change opened it)."),
    Field("last_change", NUMBER, ("positions",),
          "Its latest change in contracts: positive when it opened or grew (the add), "
          "negative when it shrank. `reduce_position: {by: position.last_change}` undoes "
          "exactly an add."),
    Field("average_price", NUMBER, ("positions",), "Average entry price."),
    Field("tick_size", NUMBER, (), "Minimum price increment of the instrument."),
    Field("tick_value", NUMBER, (), "USD per tick per contract."),
    Field("opened_at", INSTANT, ("positions",),
          "When the position opened: the Gateway's creationTimestamp (never later than "
          "riskrail saw it), else when first seen. A restart keeps it."),
    Field("last_increase_at", INSTANT, ("positions",),
          "When the position last opened or grew: at the fill that grew it when that fill "
          "was known before the position push, else when the push arrived. A restart "
          "keeps it."),
    Field("price", NUMBER, ("prices",),
          "Latest price: last trade of the latest quote, else the bid/ask midpoint."),
    Field("unrealized_pnl", NUMBER, ("positions", "prices"),
          "Unrealized P&L in USD from the latest quote, of what is open in this contract "
          "once the fills known are applied (a closing fill known before its position push "
          "is taken off at once); none before the first quote."),
    Field("profit_ticks", NUMBER, ("positions", "prices"),
          "Ticks in profit at the latest price (negative when losing)."),
    Field("best_price", NUMBER, ("positions", "prices"),
          "Best price seen since the position opened (highest for a long)."),
    Field("best_profit_ticks", NUMBER, ("positions", "prices"),
          "Most ticks in profit seen since the position opened."),
    Field("has_stop", BOOL, ("positions", "orders"),
          "A working Stop, StopLimit or TrailingStop on the closing side of this contract."),
    Field("stop_price", NUMBER, ("positions", "orders"),
          "Price of the protective stop (none without one)."),
    Field("stop_before", NUMBER, ("positions", "orders"),
          "Price of its stop before the stop's latest change: before it was moved "
          "(Order/modify), or, for a stop placed at most 10 s after the position's stop "
          "was cancelled (same contract, the closing side of the same position, no stop "
          "left between), the cancelled stop's price: a cancel and replace is one move. "
          "None for a first stop, or one placed later than that."),
    Field("has_target", BOOL, ("positions", "orders"),
          "A working limit order on the closing side of this contract."),
    Field("orders", ListType("list", RecordType("order")), ("orders",),
          "The working orders of its contract, e.g. its stops: "
          "`[o for o in position.orders if o.type == 'stop']`."),
    Field("exposure", NUMBER, ("positions", "orders"),
          "Its size plus the working orders that would add to it (on its side): what it "
          "may become if they fill."),
    Field("unprotected_since", INSTANT, ("positions", "orders"),
          "Since when the position has had no protective stop: since it opened, or since its "
          "stop went (none while it has one). A restart keeps it."),
    Field("locked", BOOL, ("lockouts",),
          "True while a lockout or cooldown covers this position: an account one, or one on "
          "its symbol root (scope: symbol)."),
    Field("locked_since", INSTANT, ("lockouts",),
          "Start of the current locked period covering this position (none when not locked)."),
    Field("lock_reason", STRING, ("lockouts",),
          "Reason of the most recent active lockout covering this position."),
    Field("lock_mode", STRING, ("lockouts",),
          "What the lockouts covering it leave allowed, the strictest: block, cooldown, "
          "reduce_only or no_new_entries (none when not locked)."),
    Field("mode_since", INSTANT, ("lockouts",),
          "Since when lockouts at least as strict as its lock_mode have covered it."),
    Field("size_allowed", NUMBER, ("positions", "lockouts"),
          "Under a reduce-only lockout, the most it may hold: its size when the lock began, "
          "then its smallest since (0 for a position opened under it); none otherwise."),
    Field("age", DURATION, ("positions",), "How long the position has been open.",
          macro="now - {self}.opened_at"),
    Field("unprotected_for", DURATION, ("positions", "orders"),
          "How long the position has been without a protective stop.",
          macro="now - {self}.unprotected_since"),
)

INSTRUMENT = _record(
    "instrument",
    "One symbol root (all expiries together) as held or worked by the account.",
    Field("symbol", STRING, (), "Symbol root, e.g. MNQ."),
    Field("names", ListType("list", STRING), ("positions", "orders"),
          "The root, its Gateway aliases and the names of its contracts seen."),
    Field("contracts", NUMBER, ("positions",), "Sum of |size| over the root's positions."),
    Field("net", NUMBER, ("positions",), "Signed sum of the root's positions (short negative)."),
    Field("position_count", NUMBER, ("positions",), "Open positions in this root."),
    Field("working_orders", NUMBER, ("orders",), "Working orders in this root."),
    Field("long_exposure", NUMBER, ("positions", "orders"),
          "The root's long contracts plus its working buy orders that would add to them."),
    Field("short_exposure", NUMBER, ("positions", "orders"),
          "The root's short contracts plus its working sell orders that would add to them."),
)

ORDER = _record(
    "order",
    "One working order.",
    Field("id", NUMBER, (), "Gateway order id."),
    Field("contract", STRING, ("orders",), "Contract id."),
    Field("symbol", STRING, ("orders",), "Symbol root with aliases resolved."),
    Field("type", STRING, ("orders",),
          "limit, market, stop_limit, stop, trailing_stop, join_bid, join_ask."),
    Field("side", STRING, ("orders",), "'buy' or 'sell'."),
    Field("size", NUMBER, ("orders",), "Order size."),
    Field("limit_price", NUMBER, ("orders",), "Limit price (none if not a limit order)."),
    Field("stop_price", NUMBER, ("orders",), "Stop price (none if not a stop order)."),
    Field("created_at", INSTANT, ("orders",), "When the order was created."),
    Field("position", RecordType("position"), ("orders", "account.positions"),
          "The position in its contract (none when there is none): "
          "`order.position.size`."),
    Field("is_entry", BOOL, ("orders", "account.positions"),
          "It would open a position: none is held in its contract, or it is on the other "
          "side and larger than the one held (a reversal)."),
    Field("is_opening", BOOL, ("orders", "account.positions"),
          "It would open or grow a position: an entry, or on the side of the position held."),
    Field("exposure", NUMBER, ("orders", "account.positions", "account.orders"),
          "What its side of its symbol root may reach: the root's long_exposure for a buy, "
          "its short_exposure for a sell (contracts held plus working orders adding to them, "
          "this one included)."),
)

TRADE = _record(
    "trade",
    "One fill (GatewayUserTrade) of the current trading day.",
    Field("id", NUMBER, ("trades",), "Gateway trade id."),
    Field("contract", STRING, ("trades",), "Contract id."),
    Field("symbol", STRING, ("trades",), "Symbol root with aliases resolved."),
    Field("price", NUMBER, ("trades",), "Fill price."),
    Field("size", NUMBER, ("trades",), "Fill size."),
    Field("side", STRING, ("trades",), "'buy' or 'sell'."),
    Field("pnl", NUMBER, ("trades",),
          "Realized P&L net of fees: profitAndLoss - fees; for an opening fill "
          "(profitAndLoss null) just its fees, negated."),
    Field("gross_pnl", NUMBER, ("trades",), "Realized P&L before fees (0 for an opening fill)."),
    Field("fees", NUMBER, ("trades",), "Fees of the fill."),
    Field("is_opening", BOOL, ("trades",), "True for an opening (half-turn) fill."),
    Field("at", INSTANT, ("trades",), "When the fill happened."),
    Field("by_enforcement", BOOL, ("trades",),
          "True for a fill of riskrail's own order (an enforcement close, a stop it placed): "
          "it counts in the P&L, not in trades_today or trades_in()."),
)

CLOCK = _record(
    "clock",
    "The trading-day clock of the ruleset (reset time and zone).",
    Field("day_start", INSTANT, ("clock",), "When the current trading day started."),
    Field("next_reset", INSTANT, ("clock",), "When the current trading day ends."),
    Field("week_start", INSTANT, ("clock",),
          "When the current trading week started: the reset on the ruleset's "
          "trading_day.week_starts day (standard: Sunday 17:00 America/Chicago)."),
    Field("next_week_reset", INSTANT, ("clock",),
          "When the current trading week ends (`lockout: {until: clock.next_week_reset}` "
          "locks until the week turns)."),
)

RECORDS: dict[str, Record] = {
    r.name: r for r in (ACCOUNT, POSITION, INSTRUMENT, ORDER, TRADE, CLOCK)
}

#: ``for_each`` scopes and the records visible in each (account is always visible).
SCOPES: dict[str, tuple[str, ...]] = {
    "account": ("account",),
    "position": ("account", "position"),
    "instrument": ("account", "instrument"),
    "order": ("account", "order"),
    "trade": ("account", "trade"),
}


def record_type(name: str) -> RecordType:
    return RECORDS[name].type
