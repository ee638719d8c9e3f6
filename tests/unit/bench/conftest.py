"""bench/ is not an installed package: put the repository root on sys.path so the
tests of bench/failover's pure parts import ``bench.failover`` however pytest is run."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[3])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
