"""Files the user names. Reading one, whatever it turns out to be: a regular file, a device
such as /dev/zero, or a FIFO (``<(cat rules.yaml)``, or one nobody writes). Writing one
(``run --state``, ``--record``, ``--log-file``, ``dry-run --report``, ``docs -o``, ``sim
--record``): what keeps a path from naming a file to create or append to, said one way
for all (each caller keeps its own exit code)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

__all__ = ["file_path_problem", "read_at_most"]


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


def file_path_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be a file, as a phrase to follow "PATH: " (None: nothing seen):

    - it ends in "/" (or its last part is "." or ".."): it names a folder. pathlib drops
      a trailing "/" and a last ".", so ``Path("newdir/")`` would have made a FILE named
      ``newdir``: the caller must pass the text the user gave;
    - it is a directory;
    - a folder on its way is a file (the first one that exists, going up).

    The system refusing to look (a name too long, a folder not searchable) raises OSError
    as ``os.stat`` does: each caller says that in its own words."""
    text = os.fspath(path)
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
