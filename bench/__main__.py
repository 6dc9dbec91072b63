"""``python -m bench``: see bench/run.py; ``python -m bench --reaction``: bench/reaction.py;
``python -m bench --engines``: bench/engines.py; ``python -m bench --rulesets``:
bench/rulesets.py."""

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

from .run import main

sys.exit(main())
