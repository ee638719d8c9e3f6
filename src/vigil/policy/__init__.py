"""The scheduler: cluster state in, target placement and an ordered action graph out.

Pure and deterministic, Pacemaker's scheduler done small. The coordinator builds
a ``ClusterState`` and calls ``schedule``; ``render`` prints a state and its
transition the way ``crm_simulate`` does. docs/policy.md explains the rules.
"""

from __future__ import annotations

from vigil.policy.render import apply_actions, render
from vigil.policy.scheduler import schedule
from vigil.policy.scores import PREFERRED_NODE_SCORE, add_scores, format_score
from vigil.policy.state import (
    AdminConstraint,
    ClusterState,
    ConstraintKind,
    CopyOrigin,
    FailCount,
    NodeAttributes,
    PolicyInputError,
    ResourceState,
)
from vigil.policy.transition import Action, ActionKind, Change, Placement, Transition

__all__ = [
    "PREFERRED_NODE_SCORE",
    "Action",
    "ActionKind",
    "AdminConstraint",
    "Change",
    "ClusterState",
    "ConstraintKind",
    "CopyOrigin",
    "FailCount",
    "NodeAttributes",
    "Placement",
    "PolicyInputError",
    "ResourceState",
    "Transition",
    "add_scores",
    "apply_actions",
    "format_score",
    "render",
    "schedule",
]
