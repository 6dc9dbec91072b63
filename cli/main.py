"""The ``riskrail`` command. Each subcommand lives in its own module and is
imported only when used, so ``riskrail validate`` never pays for the SDK.

Every command shares the exit codes of cli/exitcodes.py; a usage error (click's) has its
own code, and a closed output pipe (``riskrail dry-run ... | head``) ends the command
quietly.
"""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

import click

from . import exitcodes

#: command name -> "module:attribute" under riskrail.cli
COMMANDS: dict[str, str] = {
    "validate": "riskrail.cli.validate:validate",
    "test": "riskrail.cli.test:test",
    "schema": "riskrail.cli.schema:schema",
    "docs": "riskrail.cli.docs:docs",
    "dry-run": "riskrail.cli.dryrun:dry_run",
    "diff": "riskrail.cli.diff:diff",
    "sim": "riskrail.cli.sim:sim",
    "run": "riskrail.cli.run:run",
    "log": "riskrail.cli.log:log",
    "demo": "riskrail.cli.demo:demo",
}


def _quiet_pipe() -> None:
    """stdout (or stderr) is a pipe whose reader has gone: say nothing more, and let
    the interpreter's last flush write to /dev/null instead of raising again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError):
            continue  # not a real file (a test runner's buffer)
    os.close(devnull)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        names = []
        for name in COMMANDS:
            try:
                if self._load(name) is not None:
                    names.append(name)
            except ImportError:
                continue  # one command's missing dependency must not break `riskrail --help`
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:
                return None  # not built yet
            raise
        command = getattr(module, attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # before click's own handling, which exits 1 (= found)
            _quiet_pipe()
            sys.exit(exitcodes.PIPE_CLOSED)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        """click's main, with riskrail's exit codes: a usage error exits USAGE (click
        would say 2, the code of an invalid ruleset), Ctrl-C INTERRUPTED, and a closed
        output pipe PIPE_CLOSED without a word."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        code: Any = exitcodes.OK
        try:
            try:
                code = super().main(args, prog_name, complete_var, False, **extra)
            except SystemExit as done:
                code = done.code
            except click.UsageError as error:
                error.show()
                code = exitcodes.USAGE
            except click.ClickException as error:
                error.show()
                code = error.exit_code
            except (click.Abort, KeyboardInterrupt):
                click.echo("Aborted!", err=True)
                code = exitcodes.INTERRUPTED
            sys.stdout.flush()
        except BrokenPipeError:
            _quiet_pipe()
            code = exitcodes.PIPE_CLOSED
        sys.exit(code)


def _help() -> str:
    codes = "\n".join(textwrap.fill(meaning, 76, initial_indent=f"  {code:>3}  ",
                                     subsequent_indent=" " * 7)
                       for code, meaning in exitcodes.TABLE)
    return f"""riskrail: a declarative risk engine for ProjectX Gateway futures accounts.

\b
Exit codes (every command):
{codes}

\b
Shell completion (bash; zsh and fish likewise with zsh_source, fish_source):
  eval "$(_RISKRAIL_COMPLETE=bash_source riskrail)"     # in ~/.bashrc
"""


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             help=_help())
@click.version_option(package_name="riskrail")
def main() -> None:
    pass
