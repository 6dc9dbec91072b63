"""``python -m bench``: see bench/run.py; ``python -m bench --reaction``: bench/reaction.py."""

from __future__ import annotations

import sys

if "--reaction" in sys.argv[1:]:
    from .reaction import main as reaction

    sys.exit(reaction([a for a in sys.argv[1:] if a != "--reaction"]))

from .run import main

sys.exit(main())
