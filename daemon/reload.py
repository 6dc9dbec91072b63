"""Hot reload: one job, knowing when the rulesets changed and whether the new ones load.

``RulesetSource.load`` validates and compiles the files (every diagnostic logged with
file:line:col, the running ruleset kept on any error); ``watch`` sets an event when a
ruleset file changes (SIGHUP sets it too). Swapping the ruleset into the running pipeline
is the daemon's: working memory and lockouts survive it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.diagnostics import RulesetError
from riskrail.engine.ruleset.model import Ruleset, calendar_warnings

from .logs import log

__all__ = ["RulesetSource", "tracks_afresh"]


class RulesetSource:
    def __init__(self, paths: Sequence[str], today: Callable[[], date] | None = None) -> None:
        self.paths = list(paths)
        self.requested = asyncio.Event()
        #: the daemon's date: a session whose holiday data runs out soon is warned about
        self.today = today

    def load(self, *, running: Ruleset | None = None) -> Ruleset | None:
        """The rulesets as the files now say, or None (errors logged; with a ``running``
        ruleset, None also when nothing changed)."""
        try:
            ruleset, warnings = load_ruleset(self.paths)
        except RulesetError as error:
            for diagnostic in error.diagnostics:
                if running is None:
                    log.error("%s", diagnostic)
                else:
                    log.error("reload rejected, the running ruleset keeps enforcing: %s",
                              diagnostic, extra={"fields": {"event": "reload_rejected",
                                                            "diagnostic": str(diagnostic)}})
            return None
        for warning in warnings:
            log.warning("%s", warning)
        if self.today is not None:
            for warning in calendar_warnings(ruleset.calendar_ends, self.today()):
                log.warning("%s", warning, extra={"fields": {
                    "event": "calendar_runs_out", "diagnostic": str(warning)}})
        if running is not None and ruleset.revision == running.revision:
            return None
        return ruleset

    async def watch(self, stopping: asyncio.Event) -> None:
        """Watch the folders that hold the rulesets, not the files themselves: an editor
        that saves by renaming a new file over the old one (vim, most IDEs, atomic
        writers) replaces the inode, and a watch on the file would go deaf after the
        first such save."""
        from watchfiles import Change, awatch

        targets = [Path(p).resolve() for p in self.paths]
        folders = sorted({t if t.is_dir() else t.parent for t in targets})
        recursive = any(t.is_dir() for t in targets)

        def relevant(_change: Change, path: str) -> bool:
            changed = Path(path).resolve()
            return any(changed == t or (t.is_dir() and t in changed.parents)
                       for t in targets)

        async for _changes in awatch(*folders, watch_filter=relevant, stop_event=stopping,
                                     debounce=200, step=50, recursive=recursive):
            self.requested.set()


def tracks_afresh(running: Ruleset, loaded: Ruleset) -> dict[str, list[str]]:
    """The tracked values a reload from ``running`` to ``loaded`` starts afresh although
    their rule keeps them under the same name (docs/memory.md): track key -> the params and
    sessions it reads whose values changed ("params.big"), or [] when the track itself is
    written otherwise (its operator, stream, window or expressions). Each account's
    variant is compared with the one it had (its overrides give it its own values)."""
    running_rules = {variants.id: variants for variants in running.rules}
    afresh: dict[str, list[str]] = {}
    for variants in loaded.rules:
        old = running_rules.get(variants.id)
        if old is None:
            continue
        accounts = variants.per_account.keys() | old.per_account.keys()
        pairs = [(old.default, variants.default)] + [
            (old.per_account.get(key, old.default),
             variants.per_account.get(key, variants.default)) for key in sorted(accounts)]
        for was, now in pairs:
            if was is None or now is None:
                continue
            kept = {track.key: track for track in was.tracks}
            for track in now.tracks:
                before = kept.get(track.key)
                if before is None or track.carries(before.signature, before.inputs_text):
                    continue
                changed = afresh.setdefault(track.key, [])
                if before.signature != track.signature:
                    continue
                new_inputs, old_inputs = dict(track.inputs), dict(before.inputs)
                for name in sorted(new_inputs.keys() | old_inputs.keys()):
                    if new_inputs.get(name) != old_inputs.get(name) and name not in changed:
                        changed.append(name)
    return afresh
