"""Options naming a file a command writes (``dry-run --report``, ``docs -o``, ``sim
--record``): a path that names a folder is refused as click refuses an existing
directory (a usage error), not made into a FILE of that name."""

from __future__ import annotations

import os
from typing import Any

import click
from riskrail.engine.files import file_path_problem

__all__ = ["FileToWrite"]


class FileToWrite(click.Path):
    """``click.Path(dir_okay=False)`` that also refuses what click lets through: a path
    ending in "/" (``report/``: click, like pathlib, drops the slash, and a FILE named
    ``report`` was written) or whose folder on the way is a file."""

    def __init__(self, **options: Any) -> None:
        super().__init__(dir_okay=False, **options)

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str | os.PathLike) and value != "-":
            try:
                problem = file_path_problem(value)
            except OSError as error:
                self.fail(f"{os.fspath(value)!r}: {error.strerror or error}", param, ctx)
            if problem is not None:
                self.fail(f"{os.fspath(value)!r}: {problem}", param, ctx)
        return super().convert(value, param, ctx)
