"""Score arithmetic as Pacemaker does it: bounded, with -INFINITY absorbing.

-INFINITY plus anything is -INFINITY ("never" beats "always"); otherwise
+INFINITY plus anything is +INFINITY; other sums are clamped to the range.
"""

from __future__ import annotations

from vigil.config import INFINITY

#: The location score of a group's preferred node (haresources' first column),
#: as haresources2cib.py wrote it for Pacemaker.
PREFERRED_NODE_SCORE = 100


def add_scores(a: int, b: int) -> int:
    if a <= -INFINITY or b <= -INFINITY:
        return -INFINITY
    if a >= INFINITY or b >= INFINITY:
        return INFINITY
    total = a + b
    if total >= INFINITY:
        return INFINITY
    if total <= -INFINITY:
        return -INFINITY
    return total


def format_score(score: int) -> str:
    if score >= INFINITY:
        return "INFINITY"
    if score <= -INFINITY:
        return "-INFINITY"
    return str(score)
