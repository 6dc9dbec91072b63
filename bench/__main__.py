"""``python -m bench``: see bench/run.py; ``python -m bench --engines``: bench/engines.py."""

from __future__ import annotations

import sys

from .run import main

if "--engines" in sys.argv[1:]:
    from .engines import main as engines_main

    sys.exit(engines_main([a for a in sys.argv[1:] if a != "--engines"]))
sys.exit(main())
