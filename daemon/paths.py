"""The files ``riskrail run`` writes (--state, --record, --log-file): what keeps a path the
user gave from naming a file it may create or append to, said one way for all three.
Each caller puts its option in front and keeps its own exit code."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["file_path_problem"]


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
