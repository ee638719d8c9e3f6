"""The simulator: the real membership core of every node, in virtual time, over a
virtual network with faults, watched by invariant checkers. Also behind ``vigil simulate``.
"""

from __future__ import annotations

from vigil.sim.chaos import convergence_bound_ms, heal, schedule_chaos
from vigil.sim.checks import (
    Checker,
    DetectionTiming,
    InvariantViolation,
    ViewConsistency,
    agreement,
    default_checkers,
)
from vigil.sim.network import CALM, Delay, LinkConditions
from vigil.sim.simulation import Simulation, SimulationError
from vigil.sim.timeline import Fault, TimelineEntry, describe, render

__all__ = [
    "CALM",
    "Checker",
    "Delay",
    "DetectionTiming",
    "Fault",
    "InvariantViolation",
    "LinkConditions",
    "Simulation",
    "SimulationError",
    "TimelineEntry",
    "ViewConsistency",
    "agreement",
    "convergence_bound_ms",
    "default_checkers",
    "describe",
    "heal",
    "render",
    "schedule_chaos",
]
