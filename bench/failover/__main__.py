"""``python -m bench.failover``: see bench/failover/run.py."""

from .run import main

raise SystemExit(main())
