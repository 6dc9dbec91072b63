"""``riskrail sim``: the ProjectX Gateway simulator, and ``riskrail sim trade``: the
scripted trader. See sim/README.md."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

import click
from riskrail.cli.paths import FileToWrite

DEFAULT_PORT = 8787
DEFAULT_GATEWAY = f"http://127.0.0.1:{DEFAULT_PORT}"


@click.group(invoke_without_command=True)
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML file adding accounts and contracts (sim/README.md).")
@click.option("--record", type=FileToWrite(path_type=Path),
              help="Append every hub push to FILE as JSON lines (riskrail's event format).")
@click.option("--wrap/--no-wrap", default=None,
              help="Wrap user-hub payloads as {\"action\": 1, \"data\": ...}.  [default: no-wrap]")
@click.option("--seed", type=int, default=None, help="Random-walk seed (default 0).")
@click.option("--walk/--no-walk", default=None,
              help="Random-walk prices nobody scripted.  [default: walk]")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help="json: the addresses and accounts as one JSON object a line.")
@click.pass_context
def sim(
    ctx: click.Context,
    port: int,
    config_file: Path | None,
    record: Path | None,
    wrap: bool | None,
    seed: int | None,
    walk: bool | None,
    output_format: str,
) -> None:
    """Serve a ProjectX Gateway simulator on 127.0.0.1: the REST API under /api, the
    SignalR hubs /hubs/user and /hubs/market, and the control API under /_sim/.

    \b
    Examples:
      riskrail sim --record session.jsonl
      riskrail sim trade standard            (in another terminal)

    Exit codes: 0 stopped normally, 2 invalid config, a --record file it cannot write
    (a missing folder, a FIFO nobody reads) or the port is taken.
    """
    if ctx.invoked_subcommand is not None:
        return
    from riskrail.sim.recording import RecordingError
    from riskrail.sim.server import Simulator
    from riskrail.sim.world import ConfigError, SimConfig, load_config

    try:
        config = load_config(config_file) if config_file is not None else SimConfig()
    except ConfigError as error:
        click.echo(f"riskrail sim: {error}", err=True)
        sys.exit(2)
    simulator = Simulator(config, port=port, record=record, seed=seed, random_walk=walk,
                          wrap=wrap)
    try:
        asyncio.run(_serve(simulator, output_format == "json"))
    except RecordingError as error:
        click.echo(f"riskrail sim: --record {error.path}: cannot write it ({error.strerror})",
                   err=True)
        sys.exit(2)
    except OSError as error:
        click.echo(f"riskrail sim: cannot listen on 127.0.0.1:{port}: {error.strerror}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        pass


async def _serve(simulator: object, as_json: bool = False) -> None:
    from riskrail.sim.server import Simulator

    assert isinstance(simulator, Simulator)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    await simulator.start()
    if as_json:
        click.echo(json.dumps({
            "event": "listening", "base_url": simulator.base_url, "api_url": simulator.api_url,
            "user_hub_url": simulator.user_hub_url, "market_hub_url": simulator.market_hub_url,
            "accounts": [{"id": a.id, "name": a.name}
                         for a in simulator.exchange.accounts.values()],
            "contracts": len(simulator.exchange.contracts),
            "recording": None if simulator.record_path is None else str(simulator.record_path)
        }))
        try:
            await stop.wait()
        finally:
            await simulator.stop()
            click.echo(json.dumps({"event": "stopped"}))
        return
    accounts = ", ".join(
        f"{a.name} (id {a.id})" for a in simulator.exchange.accounts.values()
    )
    click.echo(f"riskrail sim: ProjectX Gateway simulator on {simulator.base_url}")
    click.echo(f"  REST      {simulator.api_url}")
    click.echo(f"  hubs      {simulator.user_hub_url}  {simulator.market_hub_url}")
    click.echo(f"  control   {simulator.base_url}/_sim/state")
    click.echo(f"  accounts  {accounts}")
    click.echo(f"  contracts {len(simulator.exchange.contracts)}; log in with any user name "
               "and an API key of 10+ characters")
    if simulator.record_path is not None:
        click.echo(f"  recording {simulator.record_path}")
    click.echo("Ctrl-C stops.")
    try:
        await stop.wait()
    finally:
        await simulator.stop()
        click.echo("riskrail sim: stopped")


@sim.command()
@click.argument("script")
@click.option("--gateway", default=DEFAULT_GATEWAY, show_default=True,
              help="Base URL of the simulator.")
@click.option("--speed", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Time factor: 2 plays the script twice as fast.")
@click.option("--account", default=None, help="Account name or id (default: the script's, "
              "else the first).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help="json: one object a step {at, action, description, ok, detail}, then "
                   "{done, steps, refused}.")
def trade(script: str, gateway: str, speed: float, account: str | None,
          output_format: str) -> None:
    """Play a trader SCRIPT (a YAML file, or `standard` for the bundled standard session)
    against the simulator through its REST API.

    Exit codes: 0 the script ran (refused steps are reported, not fatal), 2 invalid
    script or no simulator at --gateway.
    """
    from riskrail.sim.script import load_script
    from riskrail.sim.trader import StepResult, TraderError, run_script
    from riskrail.sim.world import ConfigError

    try:
        parsed = load_script(script)
    except ConfigError as error:
        click.echo(f"riskrail sim trade: {error}", err=True)
        sys.exit(2)
    as_json = output_format == "json"
    if not as_json:
        click.echo(f"playing {parsed.name} ({len(parsed.steps)} steps, "
                   f"{parsed.duration / speed:.0f} s) against {gateway}")

    def show(result: StepResult) -> None:
        click.echo(json.dumps({"at": result.at, "action": result.action,
                               "description": result.description, "ok": result.ok,
                               "detail": result.detail}) if as_json else result.line())

    try:
        results = asyncio.run(
            run_script(parsed, gateway, speed=speed, account=account, on_step=show)
        )
    except TraderError as error:
        click.echo(f"riskrail sim trade: {error}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    refused = sum(1 for result in results if not result.ok)
    if as_json:
        click.echo(json.dumps({"done": True, "steps": len(results), "refused": refused}))
        return
    click.echo(f"done: {len(results)} steps, {refused} refused")
