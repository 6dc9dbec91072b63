"""The falsifying example Hypothesis found for
test_price_triggers.test_the_index_decides_as_full_re_evaluation, whole, as it found it
(the property's @example and test_price_index_regressions.py replay it)."""

from __future__ import annotations

from typing import Any

MNQ, EP, RTY = "CON.F.US.MNQ.H26", "CON.F.US.EP.H26", "CON.F.US.RTY.H26"
TWO_HOURS, SIX_HOURS = 7_200_000_000, 21_600_000_000  # µs after the paths' start
Event = tuple[str, dict[str, Any], str | None, int]


def _quote(contract: str, at: int, **fields: float) -> Event:
    return ("GatewayQuote", dict(fields), contract, at)


def _position(id_: int, account: int, contract: str, size: int, average: float,
              at: int) -> Event:
    return ("GatewayUserPosition", {"id": id_, "accountId": account, "contractId": contract,
                                    "type": 1, "size": size, "averagePrice": average},
            None, at)


#: the property's limits (test_price_triggers.ruleset): P-OTHERS' limit is -5, the
#: volatile rules are in
ORIGINAL_CHOSEN = (-1, 1, 0, 0, 1, -5, 1, -1, 1, 0, -1, 1, True)
#: gateway pushes (type, payload, contract, µs after the start); the last, event 64, is
#: where the full re-evaluation decided P-OTHERS (account 4, MNQ) and the index nothing
ORIGINAL_EVENTS: list[Event] = [
    _quote(MNQ, 0, lastPrice=21000.0),
    _position(10, 1, MNQ, 1, 21000.0, 0),
    _position(20, 2, MNQ, 1, 21000.0, 0),
    _position(30, 3, MNQ, 1, 21000.0, 0),
    _position(40, 4, MNQ, 3, 20998.25, 0),
    _quote(EP, 0, lastPrice=5000.0),
    _position(21, 2, EP, 1, 5000.0, 0),
    _position(31, 3, EP, 1, 5000.0, 0),
    _position(41, 4, EP, 2, 4998.25, 0),
    _quote(RTY, 0, lastPrice=2100.0),
    _position(32, 3, RTY, 1, 2100.0, 0),
    _position(42, 4, RTY, 3, 2099.9, 0),
    _position(20, 2, MNQ, 0, 21000.0, 0),
    _quote(MNQ, 0, bestAsk=21000.0, bestBid=20999.5),
    ('GatewayUserTrade', {'id': 1, 'accountId': 1, 'contractId': MNQ, 'price': 20999.75,
                           'profitAndLoss': 0.0, 'fees': 0.74, 'side': 0, 'size': 1,
                           'voided': False, 'orderId': 1}, None, 0),
    _quote(MNQ, 0, bestAsk=20999.75, bestBid=20999.25),
    _quote(MNQ, TWO_HOURS, bestAsk=21004.25, bestBid=21003.75),
    _quote(EP, TWO_HOURS, bestAsk=4999.75, bestBid=4999.25),
    _quote(MNQ, TWO_HOURS, bestAsk=21009.0, bestBid=21008.5),
    _quote(MNQ, TWO_HOURS, bestAsk=21009.0, bestBid=21008.5),
    _quote(MNQ, TWO_HOURS, bestAsk=21008.75, bestBid=21008.25),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.75, bestBid=20995.25),
    _quote(EP, SIX_HOURS, bestAsk=4999.5, bestBid=4999.0),
    _quote(MNQ, SIX_HOURS, lastPrice=20995.0),
    _position(10, 1, MNQ, 0, 20995.5, SIX_HOURS),
    _quote(EP, SIX_HOURS, bestAsk=4990.25, bestBid=4989.75),
    _position(10, 1, MNQ, 0, 20995.0, SIX_HOURS),
    _quote(EP, SIX_HOURS, bestAsk=4990.0, bestBid=4989.5),
    _quote(RTY, SIX_HOURS, bestAsk=2100.2, bestBid=2100.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.0, bestBid=20994.5),
    _quote(RTY, SIX_HOURS, bestAsk=2100.1, bestBid=2099.9),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(RTY, SIX_HOURS, bestAsk=2100.2999999999997, bestBid=2100.1),
    _quote(EP, SIX_HOURS, bestAsk=4987.0, bestBid=4986.5),
    _quote(EP, SIX_HOURS, bestAsk=4990.5, bestBid=4990.0),
    _quote(EP, SIX_HOURS, bestAsk=4990.25, bestBid=4989.75),
    _quote(EP, SIX_HOURS, bestAsk=4984.5, bestBid=4984.0),
    _quote(EP, SIX_HOURS, bestAsk=4998.0, bestBid=4997.5),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, bestAsk=20995.5, bestBid=20995.0),
    _quote(MNQ, SIX_HOURS, lastPrice=20995.5),
]
