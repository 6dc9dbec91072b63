"""Files the user names. Reading one, whatever it turns out to be: a regular file, a device
such as /dev/zero, or a FIFO (``<(cat rules.yaml)``, or one nobody writes). Writing one
(``run --state``, ``--record``, ``--log-file``, ``dry-run --report``, ``docs -o``, ``sim
--record``): what keeps a path from naming a file to create or append to, said one way
for all (each caller keeps its own exit code)."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from pathlib import Path
from typing import IO

__all__ = ["file_path_problem", "open_to_write", "read_at_most"]


def read_at_most(path: str | Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``path`` (more than ``limit``: the caller refuses it
    as too large), so that a device never ends nor fills memory. A FIFO is opened without
    waiting for a writer (opening one nobody writes blocks forever), then read as usual:
    a writer's data, or end of file at once when there is none. OSError as ``open``."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        flags = fcntl.fcntl(descriptor, fcntl.F_GETFL)
        fcntl.fcntl(descriptor, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        stream = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    with stream:
        return stream.read(limit + 1)


def open_to_write(path: str | Path, *, append: bool = False) -> IO[str]:
    """``path`` opened to write UTF-8 text, made if missing (emptied first unless
    ``append``). A FIFO is opened without waiting for a reader: one nobody reads hung the
    command for good (``dry-run --report`` after its whole replay), so it is refused,
    OSError ENXIO "no process reads this FIFO"; one a process reads (``>(cat)``) is
    written as a file is. OSError as ``open`` otherwise."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | (os.O_APPEND if append else os.O_TRUNC)
    try:
        descriptor = os.open(path, flags, 0o666)
    except OSError as error:
        if error.errno == errno.ENXIO and _is_fifo(path):
            raise OSError(errno.ENXIO, "no process reads this FIFO", str(path)) from None
        raise
    try:
        os.set_blocking(descriptor, True)  # the writes wait for the reader as usual
        return os.fdopen(descriptor, "a" if append else "w", encoding="utf-8")
    except BaseException:
        os.close(descriptor)
        raise


def _is_fifo(path: str | Path) -> bool:
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False


def file_path_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be a file, as a phrase to follow "PATH: " (None: nothing seen):

    - it is empty;
    - it ends in "/" (or its last part is "." or ".."): it names a folder. pathlib drops
      a trailing "/" and a last ".", so ``Path("newdir/")`` would have made a FILE named
      ``newdir``: the caller must pass the text the user gave;
    - it is a directory;
    - a folder on its way is a file (the first one that exists, going up).

    The system refusing to look (a name too long, a folder not searchable) raises OSError
    as ``os.stat`` does: each caller says that in its own words."""
    text = os.fspath(path)
    if not text:  # pathlib reads "" as "." (a directory)
        return "is empty: it names no file"
    if text.endswith(os.sep):
        return "names a folder (it ends in '/'), not a file"
    if os.path.basename(text) in (".", ".."):
        return "names a folder, not a file"
    file = Path(text)
    if file.is_dir():
        return "is a directory, not a file"
    for folder in file.parents:
        if folder.exists():
            if not folder.is_dir():
                return f"its folder {folder} is a file"
            break
    return None
