"""Quorum: votes, simple majority, two-node with wait-for-all, no-quorum policy. Pure."""

from __future__ import annotations

from vigil.quorum.votes import QuorumRules, QuorumStatus, evaluate

__all__ = ["QuorumRules", "QuorumStatus", "evaluate"]
