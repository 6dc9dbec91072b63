"""Python's cyclic garbage collector, kept out of the way of a reaction.

CPython collects its young generation whenever allocations pass a threshold (700 by
default), wherever they happen: in the reaction bench a young collection fell due about
once a fill, and on the caches a push meets it took 0.1-0.2 ms (a middle one ~2 ms, a full
one of the whole heap, the SDK's included, 0.17 s), sometimes in the SDK's parsing of the
push or in its sending of the call. The daemon therefore

- freezes what it built at start (``gc.freeze``: the ruleset, the SDK, the restored
  state) so that a full collection no longer walks it, and thaws it at the stop;
- collects, when its queue is empty (nothing is waiting to be handled), the generation
  the next automatic collection would take, once the young one is half full: the
  collections then fall between bursts, not inside one.

Under a steady stream (the queue never empty) the automatic collection works as before.
Nothing here changes what is decided or recorded; only when memory is reclaimed.
"""

from __future__ import annotations

import gc

__all__ = ["collect_while_idle", "due_generation", "freeze", "thaw"]


def due_generation(counts: tuple[int, int, int], thresholds: tuple[int, int, int]
                   ) -> int | None:
    """The generation to collect now that the loop is idle, or None: none while the young
    generation is less than half full; else the oldest one whose count passed its
    threshold, as CPython's automatic collection picks it (the young one if none did)."""
    young, middle, old = counts
    threshold0, threshold1, threshold2 = thresholds
    if threshold0 <= 0 or young < threshold0 // 2:
        return None
    if old > threshold2:
        return 2
    if middle > threshold1:
        return 1
    return 0


def collect_while_idle() -> int | None:
    """Collect what ``due_generation`` says (only while the collector is enabled);
    the generation collected, or None."""
    if not gc.isenabled():
        return None
    generation = due_generation(gc.get_count(), gc.get_threshold())
    if generation is not None:
        gc.collect(generation)
    return generation


def freeze() -> None:
    """Everything alive now is left alone by the collector until ``thaw``."""
    gc.freeze()


def thaw() -> None:
    gc.unfreeze()
