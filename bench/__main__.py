"""``python -m bench``: see bench/run.py; ``python -m bench --reaction``: bench/reaction.py;
``python -m bench --engines``: bench/engines.py; ``python -m bench --rulesets``:
bench/rulesets.py; ``python -m bench --fanout``: bench/fanout.py; ``python -m bench
--replay``: bench/replay.py."""

from __future__ import annotations

import sys

if "--reaction" in sys.argv[1:]:
    from .reaction import main as reaction

    sys.exit(reaction([a for a in sys.argv[1:] if a != "--reaction"]))

if "--engines" in sys.argv[1:]:
    from .engines import main as engines

    sys.exit(engines([a for a in sys.argv[1:] if a != "--engines"]))

if "--rulesets" in sys.argv[1:]:
    from .rulesets import main as rulesets

    sys.exit(rulesets([a for a in sys.argv[1:] if a != "--rulesets"]))

if "--replay" in sys.argv[1:]:
    from .replay import main as replay

    sys.exit(replay([a for a in sys.argv[1:] if a != "--replay"]))

if "--fanout" in sys.argv[1:]:
    from .fanout import main as fanout

    sys.exit(fanout([a for a in sys.argv[1:] if a != "--fanout"]))

from .run import main

sys.exit(main())
