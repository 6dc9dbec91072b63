"""The ``riskrail`` command. Each subcommand lives in its own module and is
imported only when used, so ``riskrail validate`` never pays for the SDK.

Exit codes (shared by every command):
  0  success (for ``validate``: valid, warnings allowed; for ``dry-run``: it ran)
  1  ``dry-run --detailed-exitcode`` only: at least one decision was made
  2  invalid ruleset, or a usage error
  3  invalid event input (``dry-run``)
"""

from __future__ import annotations

import importlib

import click

#: command name -> "module:attribute" under riskrail.cli
COMMANDS: dict[str, str] = {
    "validate": "riskrail.cli.validate:validate",
    "schema": "riskrail.cli.schema:schema",
    "docs": "riskrail.cli.docs:docs",
    "dry-run": "riskrail.cli.dryrun:dry_run",
    "sim": "riskrail.cli.sim:sim",
    "run": "riskrail.cli.run:run",
    "log": "riskrail.cli.log:log",
    "demo": "riskrail.cli.demo:demo",
}


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


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="riskrail")
def main() -> None:
    """riskrail: a declarative risk engine for ProjectX Gateway futures accounts.

    \b
    Exit codes:
      0  success (validate: valid, warnings allowed; dry-run: it ran)
      1  dry-run --detailed-exitcode: at least one decision was made
      2  invalid ruleset, or a usage error
      3  invalid event input (dry-run)
    """
