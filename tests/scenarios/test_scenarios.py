"""Reference scenarios of docs/rules.md and the interactions between rules, each one event
file under ``events/`` replayed with the standard ruleset (plus ``--set`` overrides).

Each scenario is checked twice: the key facts of every decision (time, account, rule,
action, contract, size, until, superseded) are written out below, so that a wrong
snapshot cannot hide a wrong decision; and the full decision records are snapshotted.
"""

from __future__ import annotations

import pytest
from harness import CHICAGO, EVENTS, Case, fact, run
from syrupy.assertion import SnapshotAssertion

NO_002_008 = ("RULE-002.enabled=false", "RULE-008.enabled=false")
LOSS_500 = ("RULE-003.limit=-500", "RULE-007.enabled=false")
RULE_002 = ("RULE-002.limits={ES: 3}", "RULE-002.default_limit=2", "RULE-001.enabled=false",
            "RULE-008.enabled=false")

CASES: dict[str, Case] = {
    "rule001_max_contracts": Case(
        "rule001_max_contracts",
        """
        03-10 10:01:00-05 #1 RULE-001 reduce_position x1 to=5 => partial close MNQ.H26 1
        03-10 10:04:00-05 #1 RULE-001 reduce_position x1 to=5 => partial close MNQ.H26 1
        """,
        sets=NO_002_008,
    ),
    "rule001_grows_again": Case(
        "rule001_grows_again",
        """
        03-10 10:01:00-05 #1 RULE-001 reduce_position x1 to=5 => partial close MNQ.H26 1
        03-10 10:01:01-05 #1 RULE-001 reduce_position x2 to=5 => partial close MNQ.H26 2
        """,
        sets=NO_002_008,
    ),
    "rule001_rule002_one_reduce": Case(
        "rule001_rule002_one_reduce",
        """
        03-10 10:00:00-05 #1 RULE-001 reduce_position x2 to=5 => partial close MNQ.H26 4
        03-10 10:00:00-05 #1 RULE-002 reduce_position MNQ x4 to=3 => partial close MNQ.H26 4
        """,
        sets=("RULE-008.enabled=false",),
    ),
    "rule001_several_positions": Case(
        "rule001_several_positions",
        """
        03-10 10:00:02-05 #1 RULE-001 reduce_position x2 to=5 => partial close MNQ.H26 2
        """,
        sets=("RULE-008.enabled=false",),
    ),
    "rule001_net_short": Case(
        "rule001_net_short",
        """
        03-10 10:02:00-05 #1 RULE-001 reduce_position x1 to=5 => partial close MNQ.H26 1
        """,
        sets=(*NO_002_008, "RULE-001.count=net"),
    ),
    "rule002_es_over_listed_limit": Case(
        "rule002_es_over_listed_limit",
        """
        03-10 10:00:10-05 #1 RULE-002 reduce_position ES x1 to=3 => partial close EP.H26 1
        """,
        sets=RULE_002,
    ),
    "rule002_mnq_default_limit": Case(
        "rule002_mnq_default_limit",
        """
        03-10 10:00:00-05 #1 RULE-002 reduce_position MNQ x1 to=2 => partial close MNQ.H26 1
        """,
        sets=RULE_002,
    ),
    "rule002_expiries_add_up": Case(
        "rule002_expiries_add_up",
        """
        03-10 10:00:05-05 #1 RULE-002 reduce_position ES x1 to=3 => partial close EP.M26 1
        """,
        sets=RULE_002,
    ),
    "rule003_daily_loss_lockout": Case(
        "rule003_daily_loss_lockout",
        """
        03-10 09:30:00-05 #1 RULE-003 flatten => nothing
        03-10 09:30:00-05 #1 RULE-003 cancel_orders => cancel order 7003
        03-10 09:30:00-05 #1 RULE-003 lockout until=03-10 17:00:00-05 => cancel order 7003
        03-10 10:00:00-05 #1 LOCKOUT-ENFORCEMENT close_position MNQ.H26 x1 => close MNQ.H26
        03-10 10:00:00-05 #1 LOCKOUT-ENFORCEMENT cancel_orders MNQ.H26 => nothing
        03-10 17:00:00-05 #1 RULE-003 lockout_ended
        """,
        sets=LOSS_500,
        until='2026-03-10T18:00:00-05:00',
    ),
    "rule003_friday_evening": Case(
        "rule003_friday_evening",
        """
        03-13 18:10:00-05 #1 RULE-003 flatten => nothing
        03-13 18:10:00-05 #1 RULE-003 cancel_orders => nothing
        03-13 18:10:00-05 #1 RULE-003 lockout until=03-14 17:00:00-05 => nothing
        03-14 17:00:00-05 #1 RULE-003 lockout_ended
        """,
        sets=LOSS_500,
        until='2026-03-14T18:00:00-05:00',
    ),
    "rule003_dst_march": Case(
        "rule003_dst_march",
        """
        03-08 16:00:00-05 #1 RULE-003 flatten => nothing
        03-08 16:00:00-05 #1 RULE-003 cancel_orders => nothing
        03-08 16:00:00-05 #1 RULE-003 lockout until=03-08 17:00:00-05 => nothing
        03-08 17:00:00-05 #1 RULE-003 lockout_ended
        """,
        sets=LOSS_500,
        until='2026-03-08T18:00:00-05:00',
    ),
    "reset_dst_march": Case(
        "reset_dst_march",
        """
        03-08 17:30:00-05 #1 RULE-003 flatten => nothing
        03-08 17:30:00-05 #1 RULE-003 cancel_orders => nothing
        03-08 17:30:00-05 #1 RULE-003 lockout until=03-09 17:00:00-05 => nothing
        03-09 17:00:00-05 #1 RULE-003 lockout_ended
        """,
        sets=LOSS_500,
        until='2026-03-09T18:00:00-05:00',
    ),
    "reset_dst_november": Case(
        "reset_dst_november",
        """
        11-01 16:30:00-06 #1 RULE-003 flatten => nothing
        11-01 16:30:00-06 #1 RULE-003 cancel_orders => nothing
        11-01 16:30:00-06 #1 RULE-003 lockout until=11-01 17:00:00-06 => nothing
        11-01 17:00:00-06 #1 RULE-003 lockout_ended
        """,
        sets=LOSS_500,
        until='2026-11-01T18:00:00-06:00',
    ),
    "rule004_unrealized_loss": Case(
        "rule004_unrealized_loss",
        """
        03-10 10:02:00-05 #1 RULE-004 close_position MNQ.H26 x2 => close MNQ.H26
        """,
        sets=('RULE-004.limit=-300',),
    ),
    "cascade_rule004_rule003": Case(
        "cascade_rule004_rule003",
        """
        03-10 10:01:00-05 #1 RULE-004 close_position MNQ.H26 x2 => close MNQ.H26
        03-10 10:01:01-05 #1 RULE-003 flatten => nothing
        03-10 10:01:01-05 #1 RULE-003 cancel_orders => nothing
        03-10 10:01:01-05 #1 RULE-003 lockout until=03-10 17:00:00-05 => nothing
        """,
        sets=("RULE-004.limit=-300", *LOSS_500),
    ),
    "rule005_unrealized_profit": Case(
        "rule005_unrealized_profit",
        """
        03-10 10:03:00-05 #1 RULE-005 close_position EP.H26 x1 => close EP.H26
        """,
    ),
    "cascade_rule005_rule013": Case(
        "cascade_rule005_rule013",
        """
        03-10 10:01:00-05 #1 RULE-005 close_position EP.H26 x1 => close EP.H26
        03-10 10:01:01-05 #1 RULE-013 flatten => nothing
        03-10 10:01:01-05 #1 RULE-013 cancel_orders => nothing
        03-10 10:01:01-05 #1 RULE-013 lockout until=03-10 17:00:00-05 => nothing
        """,
    ),
    "rule006_fourth_trade_in_a_minute": Case(
        "rule006_fourth_trade_in_a_minute",
        """
        03-10 10:01:30-05 #1 RULE-006 cancel_orders => cancel order 7001
        03-10 10:01:30-05 #1 RULE-006 cooldown until=03-10 10:02:30-05 => cancel order 7001
        03-10 10:01:40-05 #1 LOCKOUT-ENFORCEMENT close_position MNQ.H26 x1 => close MNQ.H26
        03-10 10:01:40-05 #1 LOCKOUT-ENFORCEMENT cancel_orders MNQ.H26 => nothing
        03-10 10:02:30-05 #1 RULE-006 cooldown_ended
        """,
        until='2026-03-10T10:05:00-05:00',
    ),
    "rule006_window_rolls": Case(
        "rule006_window_rolls",
        "",  # no decision
    ),
    "rule007_loss_tiers": Case(
        "rule007_loss_tiers",
        """
        03-10 10:10:00-05 #1 RULE-007 flatten => nothing
        03-10 10:10:00-05 #1 RULE-007 cancel_orders => nothing
        03-10 10:10:00-05 #1 RULE-007 cooldown until=03-10 10:15:00-05 => nothing
        03-10 10:15:00-05 #1 RULE-007 cooldown_ended
        03-10 10:20:00-05 #1 RULE-007 flatten => nothing
        03-10 10:20:00-05 #1 RULE-007 cancel_orders => nothing
        03-10 10:20:00-05 #1 RULE-007 cooldown until=03-10 10:35:00-05 => nothing
        03-10 10:35:00-05 #1 RULE-007 cooldown_ended
        """,
    ),
    "rule007_extends_only_later": Case(
        "rule007_extends_only_later",
        """
        03-10 10:00:00-05 #1 RULE-007 flatten => nothing
        03-10 10:00:00-05 #1 RULE-007 cancel_orders => nothing
        03-10 10:00:00-05 #1 RULE-007 cooldown until=03-10 10:30:00-05 => nothing
        03-10 10:05:00-05 #1 RULE-007 flatten => nothing
        03-10 10:05:00-05 #1 RULE-007 cancel_orders => nothing
        03-10 10:05:00-05 #1 RULE-007 cooldown until=03-10 10:10:00-05 <- RULE-007 cooldown #1
        03-10 10:20:00-05 #1 RULE-007 flatten => nothing
        03-10 10:20:00-05 #1 RULE-007 cancel_orders => nothing
        03-10 10:20:00-05 #1 RULE-007 cooldown until=03-10 10:50:00-05 => nothing
        03-10 10:30:00-05 #1 RULE-007 cooldown_ended
        03-10 10:50:00-05 #1 RULE-007 cooldown_ended
        """,
        until='2026-03-10T11:00:00-05:00',
    ),
    "rule008_stop_in_grace": Case(
        "rule008_stop_in_grace",
        "",  # no decision
        until='2026-03-10T10:10:00-05:00',
    ),
    "rule008_deadline_without_event": Case(
        "rule008_deadline_without_event",
        """
        03-10 10:01:00-05 #1 RULE-008 close_position MNQ.H26 x1 => close MNQ.H26
        """,
    ),
    "rule008_stop_cancelled_restarts_grace": Case(
        "rule008_stop_cancelled_restarts_grace",
        """
        03-10 10:06:00-05 #1 RULE-008 close_position EP.H26 x1 => close EP.H26
        """,
    ),
    "rule009_in_session": Case(
        "rule009_in_session",
        "",  # no decision
        until='2026-03-10T16:00:00-05:00',
    ),
    "rule009_opened_before_session": Case(
        "rule009_opened_before_session",
        """
        03-10 07:00:00-05 #1 RULE-009 flatten => close MNQ.H26
        03-10 07:00:00-05 #1 RULE-009 cancel_orders => nothing
        03-10 07:00:00-05 #1 RULE-009 lockout until=03-10 08:30:00-05 => close MNQ.H26
        03-10 07:00:00-05 #1 LOCKOUT-ENFORCEMENT close_position MNQ.H26 x1 <- RULE-009 flatten
        03-10 07:00:00-05 #1 LOCKOUT-ENFORCEMENT cancel_orders MNQ.H26 <- RULE-009 cancel_orders
        03-10 08:30:00-05 #1 RULE-009 lockout_ended
        """,
        until='2026-03-10T09:00:00-05:00',
    ),
    "rule009_held_past_end": Case(
        "rule009_held_past_end",
        """
        03-10 15:00:00-05 #1 RULE-009 flatten => close MNQ.H26
        03-10 15:00:00-05 #1 RULE-009 cancel_orders => cancel order 7002
        03-10 15:00:00-05 #1 RULE-009 lockout until=03-11 08:30:00-05 => close MNQ.H26; cancel order 7002
        """,
    ),
    "rule009_saturday": Case(
        "rule009_saturday",
        """
        03-14 11:00:00-05 #1 RULE-009 flatten => close MNQ.H26
        03-14 11:00:00-05 #1 RULE-009 cancel_orders => nothing
        03-14 11:00:00-05 #1 RULE-009 lockout until=03-16 08:30:00-05 => close MNQ.H26
        03-14 11:00:00-05 #1 LOCKOUT-ENFORCEMENT close_position MNQ.H26 x1 <- RULE-009 flatten
        03-14 11:00:00-05 #1 LOCKOUT-ENFORCEMENT cancel_orders MNQ.H26 <- RULE-009 cancel_orders
        """,
    ),
    "rule009_holiday": Case(
        "rule009_holiday",
        """
        04-03 10:00:00-05 #1 RULE-009 flatten => close MNQ.H26
        04-03 10:00:00-05 #1 RULE-009 cancel_orders => nothing
        04-03 10:00:00-05 #1 RULE-009 lockout until=04-06 08:30:00-05 => close MNQ.H26
        04-03 10:00:00-05 #1 LOCKOUT-ENFORCEMENT close_position MNQ.H26 x1 <- RULE-009 flatten
        04-03 10:00:00-05 #1 LOCKOUT-ENFORCEMENT cancel_orders MNQ.H26 <- RULE-009 cancel_orders
        """,
    ),
    "rule009_dst_weekend_march": Case(
        "rule009_dst_weekend_march",
        """
        03-07 10:00:00-06 #1 RULE-009 flatten => close MNQ.H26
        03-07 10:00:00-06 #1 RULE-009 cancel_orders => nothing
        03-07 10:00:00-06 #1 RULE-009 lockout until=03-09 08:30:00-05 => close MNQ.H26
        03-07 10:00:00-06 #1 LOCKOUT-ENFORCEMENT close_position MNQ.H26 x1 <- RULE-009 flatten
        03-07 10:00:00-06 #1 LOCKOUT-ENFORCEMENT cancel_orders MNQ.H26 <- RULE-009 cancel_orders
        03-09 08:30:00-05 #1 RULE-009 lockout_ended
        03-09 15:00:00-05 #1 RULE-009 flatten => close EP.H26
        03-09 15:00:00-05 #1 RULE-009 cancel_orders => cancel order 7004
        03-09 15:00:00-05 #1 RULE-009 lockout until=03-10 08:30:00-05 => close EP.H26; cancel order 7004
        """,
        until='2026-03-09T16:00:00-05:00',
    ),
    "rule009_dst_weekend_november": Case(
        "rule009_dst_weekend_november",
        """
        10-31 10:00:00-05 #1 RULE-009 flatten => close MNQ.H26
        10-31 10:00:00-05 #1 RULE-009 cancel_orders => nothing
        10-31 10:00:00-05 #1 RULE-009 lockout until=11-02 08:30:00-06 => close MNQ.H26
        10-31 10:00:00-05 #1 LOCKOUT-ENFORCEMENT close_position MNQ.H26 x1 <- RULE-009 flatten
        10-31 10:00:00-05 #1 LOCKOUT-ENFORCEMENT cancel_orders MNQ.H26 <- RULE-009 cancel_orders
        11-02 08:30:00-06 #1 RULE-009 lockout_ended
        11-02 15:00:00-06 #1 RULE-009 flatten => close EP.H26
        11-02 15:00:00-06 #1 RULE-009 cancel_orders => cancel order 7004
        11-02 15:00:00-06 #1 RULE-009 lockout until=11-03 08:30:00-06 => close EP.H26; cancel order 7004
        """,
        until='2026-11-02T16:00:00-06:00',
    ),
    "rule009_overnight_session": Case(
        "rule009_overnight_session",
        """
        03-11 16:30:00-05 #1 RULE-009 flatten => close EP.H26
        03-11 16:30:00-05 #1 RULE-009 cancel_orders => cancel order 7002
        03-11 16:30:00-05 #1 RULE-009 lockout until=03-11 17:00:00-05 => close EP.H26; cancel order 7002
        03-11 16:30:00-05 #1 LOCKOUT-ENFORCEMENT close_position EP.H26 x1 <- RULE-009 flatten
        03-11 16:30:00-05 #1 LOCKOUT-ENFORCEMENT cancel_orders EP.H26 <- RULE-009 cancel_orders
        03-11 17:00:00-05 #1 RULE-009 lockout_ended
        """,
        sets=('RULE-009.start=17:00', 'RULE-009.end=16:00'),
        until='2026-03-11T17:30:00-05:00',
    ),
    "rule010_can_trade": Case(
        "rule010_can_trade",
        """
        03-10 10:05:00-05 #1 RULE-010 cancel_orders => cancel order 7002
        03-10 10:05:00-05 #1 RULE-010 flatten => close MNQ.H26
        03-10 10:05:00-05 #1 RULE-010 lockout => close MNQ.H26; cancel order 7002
        03-10 10:20:00-05 #1 RULE-010 lockout_ended
        03-10 10:30:00-05 #1 RULE-010 alert
        """,
    ),
    "rule011_blocked_symbols": Case(
        "rule011_blocked_symbols",
        """
        03-10 10:01:00-05 #1 RULE-011 close_position RTY.H26 x1 => close RTY.H26
        03-10 10:01:00-05 #1 RULE-011 cancel_order RTY.H26 => cancel order 7004
        """,
        sets=('RULE-011.symbols=[RTY, "BTC*"]',),
    ),
    "rule011_order_only": Case(
        "rule011_order_only",
        """
        03-10 10:00:00-05 #1 RULE-011 cancel_order RTY.H26 => cancel order 7001
        03-10 10:00:10-05 #1 RULE-011 cancel_order RTY.H26 => nothing
        03-10 10:00:10-05 #1 RULE-011 cancel_order RTY.H26 => cancel order 7003
        """,
        sets=('RULE-011.symbols=[RTY, "BTC*"]',),
    ),
    "rule011_lowercase_glob": Case(
        "rule011_lowercase_glob",
        """
        03-10 10:00:00-05 #1 RULE-011 close_position MNQ.H26 x1 => close MNQ.H26
        03-10 10:00:00-05 #1 RULE-011 cancel_order MNQ.H26 => cancel order 7002
        """,
        sets=('RULE-011.symbols=["mnq*"]',),
    ),
    "rule012_trade_management": Case(
        "rule012_trade_management",
        """
        03-10 10:00:00-05 #1 RULE-012 place_stop EP.H26 x1 price=4997.5 => place sell 1 stop at 4997.5 on EP.H26
        03-10 10:01:00-05 #1 RULE-012 move_stop EP.H26 x1 price=5000.25 => modify order 7200 to 5000.25 size 1
        03-10 10:04:00-05 #1 RULE-012 move_stop EP.H26 x1 price=5002 => modify order 7200 to 5002 size 1
        03-10 10:06:00-05 #1 RULE-012 move_stop EP.H26 x1 price=5003 => modify order 7200 to 5003 size 1
        """,
        sets=("RULE-012.enabled=true", "RULE-012.stop_loss_ticks=10",
              "RULE-012.breakeven={trigger_ticks: 4, offset_ticks: 1}"),
    ),
    "rule013_profit_target": Case(
        "rule013_profit_target",
        """
        03-10 10:20:00-05 #1 RULE-013 flatten => nothing
        03-10 10:20:00-05 #1 RULE-013 cancel_orders => nothing
        03-10 10:20:00-05 #1 RULE-013 lockout until=03-10 17:00:00-05 => nothing
        """,
        sets=('RULE-013.target=1000',),
    ),
    "arbitration_flatten_supersedes": Case(
        "arbitration_flatten_supersedes",
        """
        03-10 10:00:00-05 #1 RULE-001 flatten => close EP.H26
        03-10 10:00:00-05 #1 RULE-002 reduce_position ES x1 to=2 <- RULE-001 flatten
        """,
        sets=('RULE-001.limit=2', 'RULE-001.enforce=flatten'),
    ),
    "arbitration_one_quote": Case(
        "arbitration_one_quote",
        """
        03-10 10:01:00-05 #1 RULE-003 flatten => close MNQ.H26
        03-10 10:01:00-05 #1 RULE-003 cancel_orders => cancel order 7002; cancel order 7003
        03-10 10:01:00-05 #1 RULE-003 lockout until=03-10 17:00:00-05 => close MNQ.H26; cancel order 7002; cancel order 7003
        03-10 10:01:00-05 #1 RULE-004 close_position MNQ.H26 x2 <- RULE-003 flatten
        """,
        sets=('RULE-003.include_unrealized=true', 'RULE-003.limit=-500'),
    ),
    "arbitration_lockout_chain": Case(
        "arbitration_lockout_chain",
        """
        03-10 07:00:00-05 #1 RULE-009 flatten => close MNQ.H26
        03-10 07:00:00-05 #1 RULE-009 cancel_orders => cancel order 7001
        03-10 07:00:00-05 #1 RULE-009 lockout until=03-10 08:30:00-05 => close MNQ.H26; cancel order 7001
        03-10 07:00:00-05 #1 LOCKOUT-ENFORCEMENT close_position MNQ.H26 x1 <- RULE-009 flatten
        03-10 07:00:00-05 #1 LOCKOUT-ENFORCEMENT cancel_orders MNQ.H26 <- RULE-009 cancel_orders
        """,
    ),
    "lockout_reduce_allowed_grow_closed": Case(
        "lockout_reduce_allowed_grow_closed",
        """
        03-10 10:05:00-05 #1 RULE-010 cancel_orders => cancel order 7002
        03-10 10:05:00-05 #1 RULE-010 flatten => close MNQ.H26
        03-10 10:05:00-05 #1 RULE-010 lockout => close MNQ.H26; cancel order 7002
        03-10 10:07:00-05 #1 LOCKOUT-ENFORCEMENT close_position MNQ.H26 x2 => close MNQ.H26
        03-10 10:07:00-05 #1 LOCKOUT-ENFORCEMENT cancel_orders MNQ.H26 => nothing
        03-10 10:09:00-05 #1 LOCKOUT-ENFORCEMENT close_position MNQ.H26 x1 => close MNQ.H26
        03-10 10:09:00-05 #1 LOCKOUT-ENFORCEMENT cancel_orders MNQ.H26 => nothing
        03-10 10:10:00-05 #1 RULE-010 lockout_ended
        """,
    ),
    "two_accounts": Case(
        "two_accounts",
        """
        03-10 09:20:00-05 #1 RULE-003 flatten => nothing
        03-10 09:20:00-05 #1 RULE-003 cancel_orders => nothing
        03-10 09:20:00-05 #1 RULE-003 lockout until=03-10 17:00:00-05 => nothing
        03-10 09:30:00-05 #1 LOCKOUT-ENFORCEMENT close_position MNQ.H26 x1 => close MNQ.H26
        03-10 09:30:00-05 #1 LOCKOUT-ENFORCEMENT cancel_orders MNQ.H26 => nothing
        """,
        sets=('RULE-007.enabled=false',),
    ),
    "two_accounts_filtered": Case(
        "two_accounts",
        "",  # no decision
        sets=('RULE-007.enabled=false',),
        account_id=2,
    ),
    "per_account_overrides": Case(
        "per_account_overrides",
        """
        03-10 09:10:00-05 #1 RULE-003 flatten => nothing
        03-10 09:10:00-05 #1 RULE-003 cancel_orders => nothing
        03-10 09:10:00-05 #1 RULE-003 lockout until=03-10 17:00:00-05 => nothing
        03-10 09:20:00-05 #2 RULE-003 flatten => nothing
        03-10 09:20:00-05 #2 RULE-003 cancel_orders => nothing
        03-10 09:20:00-05 #2 RULE-003 lockout until=03-10 17:00:00-05 => nothing
        """,
        rulesets=('per_account.yaml',),
    ),
    "payload_shape_plain": Case(
        "payload_shape_plain",
        """
        03-10 10:01:00-05 #1 RULE-004 close_position MNQ.H26 x2 => close MNQ.H26
        03-10 10:02:00-05 #1 RULE-007 flatten => close EP.H26
        03-10 10:02:00-05 #1 RULE-007 cancel_orders => cancel order 7003; cancel order 7004
        03-10 10:02:00-05 #1 RULE-007 cooldown until=03-10 10:32:00-05 => cancel order 7003; cancel order 7004
        03-10 10:03:00-05 #1 RULE-010 cancel_orders => nothing
        03-10 10:03:00-05 #1 RULE-010 flatten => nothing
        03-10 10:03:00-05 #1 RULE-010 lockout => nothing
        """,
    ),
    "payload_shape_wrapped": Case(
        "payload_shape_wrapped",
        """
        03-10 10:01:00-05 #1 RULE-004 close_position MNQ.H26 x2 => close MNQ.H26
        03-10 10:02:00-05 #1 RULE-007 flatten => close EP.H26
        03-10 10:02:00-05 #1 RULE-007 cancel_orders => cancel order 7003; cancel order 7004
        03-10 10:02:00-05 #1 RULE-007 cooldown until=03-10 10:32:00-05 => cancel order 7003; cancel order 7004
        03-10 10:03:00-05 #1 RULE-010 cancel_orders => nothing
        03-10 10:03:00-05 #1 RULE-010 flatten => nothing
        03-10 10:03:00-05 #1 RULE-010 lockout => nothing
        """,
    ),
    "payload_shape_list": Case(
        "payload_shape_list",
        """
        03-10 10:01:00-05 #1 RULE-004 close_position MNQ.H26 x2 => close MNQ.H26
        03-10 10:02:00-05 #1 RULE-007 flatten => close EP.H26
        03-10 10:02:00-05 #1 RULE-007 cancel_orders => cancel order 7003; cancel order 7004
        03-10 10:02:00-05 #1 RULE-007 cooldown until=03-10 10:32:00-05 => cancel order 7003; cancel order 7004
        03-10 10:03:00-05 #1 RULE-010 cancel_orders => nothing
        03-10 10:03:00-05 #1 RULE-010 flatten => nothing
        03-10 10:03:00-05 #1 RULE-010 lockout => nothing
        """,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_scenario(name: str, snapshot: SnapshotAssertion) -> None:
    case = CASES[name]
    result, ruleset = run(case)
    assert result.problems == []
    assert [fact(d) for d in result.decisions] == case.facts
    # The ruleset revision is the hash of the YAML text: any comment edit would change it.
    records = [{**d.to_dict(CHICAGO), "revision": "<revision>"} for d in result.decisions]
    assert all(d.revision == ruleset.revision for d in result.decisions)
    assert records == snapshot


def test_payload_shapes_decide_the_same() -> None:
    """Plain, ``{"action", "data"}`` wrapped and list payloads are one and the same."""
    decided = {shape: [d.to_dict(CHICAGO) for d in run(CASES[f"payload_shape_{shape}"])[0]
                       .decisions] for shape in ("plain", "wrapped", "list")}
    assert decided["plain"]
    assert decided["wrapped"] == decided["plain"]
    assert decided["list"] == decided["plain"]


def test_every_event_file_has_a_case() -> None:
    used = {case.events for case in CASES.values()}
    files = {path.stem for path in EVENTS.glob("*.jsonl")}
    assert files == used
