"""The simulator: the real membership core of every node, in virtual time, over a
virtual network with faults, watched by invariant checkers. Also behind ``vigil simulate``.

``Simulation`` runs membership only; ``ClusterSimulation`` adds the coordinator
and simulated agents (``AgentBehaviour``), watched by resource checkers.
"""

from __future__ import annotations

from vigil.sim.agents import AgentBehaviour, FakeExecutor, ResourceChecker
from vigil.sim.chaos import convergence_bound_ms, heal, schedule_chaos
from vigil.sim.checks import (
    Checker,
    DetectionTiming,
    InvariantViolation,
    ViewConsistency,
    agreement,
    default_checkers,
)
from vigil.sim.cluster import ClusterSimulation, liveness_bound_ms
from vigil.sim.network import CALM, Delay, LinkConditions
from vigil.sim.resource_checks import ExclusiveActive, ServiceHistory, unsettled
from vigil.sim.simulation import Simulation, SimulationError
from vigil.sim.timeline import Fault, TimelineEntry, describe, render

__all__ = [
    "CALM",
    "AgentBehaviour",
    "Checker",
    "ClusterSimulation",
    "Delay",
    "DetectionTiming",
    "ExclusiveActive",
    "FakeExecutor",
    "Fault",
    "InvariantViolation",
    "LinkConditions",
    "ResourceChecker",
    "ServiceHistory",
    "Simulation",
    "SimulationError",
    "TimelineEntry",
    "ViewConsistency",
    "agreement",
    "convergence_bound_ms",
    "default_checkers",
    "describe",
    "heal",
    "liveness_bound_ms",
    "render",
    "schedule_chaos",
    "unsettled",
]
