"""The fence history: the last fences this node ran or was told of, bounded. Pure.

Like ``stonith_admin --history``: who fenced whom, when, with which device,
how it ended, and the agent's last words. Oldest records go first once full.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from vigil.config import NodeName
from vigil.fencing.results import FenceResult

DEFAULT_LIMIT = 100


class FenceHistory:
    """At most LIMIT fence results, oldest first."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError("fence history limit must be at least 1")
        self._records: deque[FenceResult] = deque(maxlen=limit)

    def add(self, record: FenceResult) -> None:
        self._records.append(record)

    def __iter__(self) -> Iterator[FenceResult]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    @property
    def records(self) -> tuple[FenceResult, ...]:
        return tuple(self._records)

    def last_for(self, node: NodeName) -> FenceResult | None:
        """NODE's latest fence, whether it succeeded or not."""
        for record in reversed(self._records):
            if record.node == node:
                return record
        return None

    def last_success(self, node: NodeName) -> FenceResult | None:
        """NODE's latest successful fence: after it, NODE's resources may be recovered."""
        for record in reversed(self._records):
            if record.node == node and record.succeeded:
                return record
        return None

    def as_list(self) -> list[dict[str, object]]:
        """Oldest first, for ``vigil status --json``."""
        return [r.as_dict() for r in self._records]
