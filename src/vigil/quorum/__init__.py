"""Quorum: votes, simple majority, two-node with wait-for-all, no-quorum policy. Pure."""

from __future__ import annotations

from vigil.config import LEASE_MARGIN_MS
from vigil.quorum.arbiter import (
    ArbiterVote,
    LeaseAsk,
    next_ask,
    successor,
    vote_deadline_ms,
    vote_from_answer,
)
from vigil.quorum.votes import QuorumRules, QuorumStatus, evaluate

__all__ = ["LEASE_MARGIN_MS", "ArbiterVote", "LeaseAsk", "QuorumRules", "QuorumStatus",
           "evaluate", "next_ask", "successor", "vote_deadline_ms", "vote_from_answer"]
