"""Trader scripts, the standard session, SimulatorThread and the ``riskrail sim`` CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from riskrail.cli.main import main
from riskrail.sim import (
    ConfigError,
    Simulator,
    SimulatorThread,
    TraderError,
    load_config,
    load_script,
    parse_script,
    run_script,
    standard_script_path,
)

CHICAGO = ZoneInfo("America/Chicago")


def steps(*items: dict[str, Any]) -> dict[str, Any]:
    return {"name": "t", "steps": list(items)}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"steps": []}, "non-empty"),
        (steps({"buy": {"contract": "MNQ"}}), "steps[0].at"),
        (steps({"at": 0, "jump": 1}), "unknown keys"),
        (steps({"at": 0, "buy": {"contract": "MNQ", "type": "limit"}}), "needs 'limit'"),
        (steps({"at": 0, "sell": {"contract": "MNQ", "size": 0}}), "positive whole"),
        (steps({"at": 0, "cancel": "nope"}), "no order has ref 'nope'"),
        (steps({"at": 0, "clock": "25:00 America/Chicago"}), "out of range"),
        (steps({"at": 0, "clock": "09:30 Mars/Olympus"}), "unknown time zone"),
        (steps({"at": 0, "price": {"contract": "MNQ"}}), "'set', 'path' or 'walk'"),
        (steps({"at": 0, "buy": {"contract": "MNQ"}, "close": "MNQ"}), "exactly one action"),
    ],
)
def test_script_errors_are_readable(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_script(document, "bad.yaml")
    assert message in str(error.value) and str(error.value).startswith("bad.yaml: ")


def test_standard_script_shape() -> None:
    script = load_script("standard")
    assert script.source == str(standard_script_path())
    assert script.duration < 90
    actions = {step.action for step in script.steps}
    assert {"buy", "sell", "cancel", "close", "price", "clock"} <= actions
    opened = next(s.at for s in script.steps if s.action == "buy"
                  and s.args["contract"] == "MES")
    closed = next(s.at for s in script.steps if s.action == "close"
                  and s.args["contract"] == "MES")
    assert closed - opened > 60  # held without a stop for over 60 s


async def test_standard_session_breaks_the_rules() -> None:
    """The standard script at speed 40 (about 2 s): every intended breach happens."""
    async with Simulator(seed=5) as sim:
        results = await run_script(load_script("standard"), sim.base_url, speed=40)
        assert all(result.ok for result in results), [r.line() for r in results if not r.ok]
        state = sim.state()
    trades = state["trades"]
    pnl = [t["profitAndLoss"] for t in trades if t["profitAndLoss"] is not None]
    losses = sorted(p for p in pnl if p < 0)
    assert losses[0] <= -400 and any(-300 >= p > -400 for p in losses)
    assert any(-200 >= p > -300 for p in losses) and any(-100 >= p > -200 for p in losses)
    assert sum(pnl) < -1000
    # Oversize: more than 5 contracts open across the account at once.
    open_sizes: dict[str, int] = {}
    peak = 0
    for trade in trades:
        sign = 1 if trade["side"] == 0 else -1
        open_sizes[trade["contractId"]] = open_sizes.get(trade["contractId"], 0) + sign * trade[
            "size"]
        peak = max(peak, sum(abs(v) for v in open_sizes.values()))
    assert peak == 6
    # Session 08:30-15:00 Chicago: every trade inside it but the after-hours pair.
    local = [datetime.fromisoformat(t["creationTimestamp"]).astimezone(CHICAGO) for t in trades]
    inside = [t for t in local if (8, 30) <= (t.hour, t.minute) < (15, 0)]
    assert len(inside) == len(trades) - 2
    assert all((t.hour, t.minute) >= (15, 5) for t in local[-2:])
    assert state["positions"] == [] and state["accounts"][0]["balance"] < 49_000


async def test_a_step_when_a_path_ends_sees_its_last_price(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The simulator plays a path on its own timer, started when the trader's request
    arrives: a close scheduled at the path's end used to reach it first (at speed 40 the
    standard session's losses landed in the wrong tiers on a busy machine). The trader
    waits for the path, so the close fills at the path's last price, at any speed."""
    play = sim.play_path

    def late(contract: str, points: list[tuple[float, float]]) -> None:
        # a busy machine: the simulator's path timer runs 0.2 s behind
        play(contract, [(offset + 0.2, price) for offset, price in points])

    monkeypatch.setattr(sim, "play_path", late)
    script = parse_script(steps(
        {"at": 0, "price": {"contract": "MNQ", "set": 21500}},
        {"at": 0, "buy": {"contract": "MNQ", "size": 1}},
        {"at": 0, "price": {"contract": "MNQ", "path": [[0, 21490], [1, 21480]]}},
        {"at": 1, "close": "MNQ"},
    ))
    results = await run_script(script, sim.base_url, speed=20)
    assert all(result.ok for result in results), [r.line() for r in results]
    pnl = [t["profitAndLoss"] for t in sim.state()["trades"] if t["profitAndLoss"] is not None]
    assert pnl == [-40.0]  # 1 MNQ ($2 a point) bought at 21500, closed at 21480


async def test_trader_reports_refusals_and_goes_on(sim: Simulator) -> None:
    script = parse_script(steps(
        {"at": 0, "price": {"contract": "MNQ", "set": 21500}},
        {"at": 0, "buy": {"contract": "MNQ", "size": 1, "type": "limit", "price": 21400,
                          "ref": "l1"}},
        {"at": 0.01, "modify": {"ref": "l1", "limit": 21450}},
        {"at": 0.01, "close": "ES"},
        {"at": 0.02, "can_trade": False},
        {"at": 0.02, "buy": {"contract": "MNQ", "size": 1}},
        {"at": 0.03, "can_trade": True},
        {"at": 0.03, "cancel": "all"},
        {"at": 0.04, "say": "done"},
    ))
    seen: list[str] = []
    results = await run_script(script, sim.base_url, speed=1, on_step=lambda r: seen.append(
        r.line()))
    assert [r.ok for r in results] == [True, True, True, False, True, False, True, True, True]
    assert "errorCode 2" in results[3].detail and "errorCode 4" in results[5].detail
    assert "cancelled 1 order(s)" in results[7].detail
    assert len(seen) == len(results)
    assert sim.state()["orders"][0]["limitPrice"] == 21450.0


async def test_trader_without_a_gateway() -> None:
    async with Simulator(random_walk=False) as sim:
        url = sim.base_url
    with pytest.raises(TraderError):
        await run_script(load_script("standard"), url)


def test_config_file_adds_accounts_and_contracts(tmp_path: Path) -> None:
    config_file = tmp_path / "sim.yaml"
    config_file.write_text(
        "accounts:\n  - {name: SIM-150K, balance: 150000, canTrade: false}\n"
        "contracts:\n  - {id: CON.F.US.MNQ.M26, price: 21800}\n"
        "  - {id: CON.F.US.BTC.F26, tickSize: 5, tickValue: 25, price: 95000, fee: 2.5}\n"
        "fees: {ES: 2.0}\nseed: 9\n"
    )
    config = load_config(config_file)
    assert [a.name for a in config.accounts] == ["SIM-50K", "SIM-150K"]
    mnq_june = config.contract("CON.F.US.MNQ.M26")
    assert mnq_june is not None and mnq_june.tick_value == 0.5 and mnq_june.price == 21800
    assert mnq_june.name == "MNQM26"
    es = config.contract("ES")
    assert es is not None and es.fee == 2.0
    bad = tmp_path / "bad.yaml"
    bad.write_text("contracts:\n  - {id: CON.F.US.ZZZ.H26}\n")
    with pytest.raises(ConfigError, match="needs tickSize"):
        load_config(bad)


def test_simulator_thread_api() -> None:
    with SimulatorThread(random_walk=False, spread_ticks=0) as sim:
        assert sim.base_url.startswith("http://127.0.0.1:")
        assert sim.contract_id("NQ") == "CON.F.US.ENQ.H26"
        assert sim.set_price("MNQ", 21500)["lastPrice"] == 21500.0
        failure = sim.inject_failure("Order/place", "http500", count=1)
        assert failure["remaining"] == 1 and sim.clear_failures() == 1
        assert sim.set_can_trade("SIM-50K", False)["canTrade"] is False
        assert sim.drop_hubs() == 0
        sim.expire_tokens()
        sim.pause_pushes("market")
        sim.resume_pushes("market")
        assert sim.state()["accounts"][0]["canTrade"] is False
        assert sim.rest_log() == []
    assert threading.active_count() >= 1


def test_cli_trade_and_help() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["sim", "--help"])
    assert result.exit_code == 0 and "127.0.0.1" in result.output
    result = runner.invoke(main, ["sim", "trade", "/nonexistent/script.yaml"])
    assert result.exit_code == 2
    with SimulatorThread(random_walk=False) as sim:
        result = runner.invoke(main, ["sim", "trade", "standard", "--gateway", sim.base_url,
                                      "--speed", "100"])
        assert result.exit_code == 0, result.output
        assert "done: " in result.output and ", 0 refused" in result.output
        assert len(sim.state()["trades"]) == 20


def test_cli_serves_on_loopback_and_stops_on_sigint(tmp_path: Path) -> None:
    executable = Path(sys.executable).with_name("riskrail")
    record = tmp_path / "rec.jsonl"
    process = subprocess.Popen(
        [str(executable), "sim", "--port", "0", "--no-walk", "--record", str(record)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines: list[str] = []
        timer = threading.Timer(20, process.kill)
        timer.start()
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        timer.cancel()
        url = next(line.split(" on ", 1)[1].strip() for line in lines if " on http" in line)
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/_sim/health", timeout=5) as response:
            assert json.load(response)["ok"] is True
        request = urllib.request.Request(
            f"{url}/_sim/price", data=json.dumps({"contract": "MNQ", "price": 21000}).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.load(response)["quote"]["lastPrice"] == 21000.0
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
    first = json.loads(record.read_text().splitlines()[0])
    assert first["type"] == "GatewayQuote" and first["data"]["lastPrice"] == 21000.0


@pytest.mark.parametrize(("config", "message"), [
    ("/dev/zero", "larger than 1,048,576 bytes"),  # read whole, it never ended
    ("nan.yaml", "'balance' must be a finite number, got nan"),
    ("inf.yaml", "'price' must be a finite number, got inf"),
])
def test_sim_refuses_a_config_it_cannot_run(tmp_path: Path, config: str, message: str) -> None:
    (tmp_path / "nan.yaml").write_text("accounts:\n  - {name: SIM-NAN, balance: .nan}\n")
    (tmp_path / "inf.yaml").write_text("contracts:\n  - {id: CON.F.US.MNQ.M26, price: .inf}\n")
    riskrail = str(Path(sys.executable).with_name("riskrail"))
    path = config if config.startswith("/") else str(tmp_path / config)
    result = subprocess.run([riskrail, "sim", "--config", path, "--port", "0"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("text", "message"), [
    # fees were read apart from the other numbers: .nan and .inf passed `value < 0`
    ("fees: {MNQ: .nan}\n", "fees.MNQ: must be a non-negative number, got nan"),
    ("fees: {MNQ: .inf}\n", "fees.MNQ: must be a non-negative number, got inf"),
    # every price was infinite ticks: an OverflowError traceback at start
    ("contracts:\n  - {id: CON.F.US.ZZZ.H26, tickSize: 1.0e-320, tickValue: 1.0}\n",
     "price 100.0 is more than 1e+15 ticks of 1e-320"),
    # two accounts of one id: the first was dropped, unsaid
    ("accounts:\n  - {name: A, id: 7}\n  - {name: B, id: 7}\n",
     "accounts[1]: id 7 is 'A''s already"),
])
def test_sim_refuses_fees_ticks_and_ids_it_cannot_run(tmp_path: Path, text: str,
                                                      message: str) -> None:
    """Outside testing (breakit4) of `riskrail sim --config`: what the bounded, finite
    read still let through."""
    path = tmp_path / "config.yaml"
    path.write_text(text)
    riskrail = str(Path(sys.executable).with_name("riskrail"))
    result = subprocess.run([riskrail, "sim", "--config", str(path), "--port", "0"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_config_fifo_nobody_writes_is_read_as_empty(tmp_path: Path) -> None:
    # the same read as a ruleset's (riskrail.engine.files): opening the FIFO hung before
    os.mkfifo(tmp_path / "sim.yaml")
    code = ("from riskrail.sim.world import load_config; "
            f"print(len(load_config({str(tmp_path / 'sim.yaml')!r}).accounts))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"  # the default world: SIM-50K
