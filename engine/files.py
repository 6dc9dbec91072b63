"""Reading a file the user names, whatever it turns out to be: a regular file, a device
such as /dev/zero, or a FIFO (``<(cat rules.yaml)``, or one nobody writes)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

__all__ = ["read_at_most"]


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
