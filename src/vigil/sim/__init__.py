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
from vigil.sim.fence_runs import AgentRun, FenceAgentBehaviour, FenceRecord
from vigil.sim.network import CALM, Delay, LinkConditions
from vigil.sim.rehearsal import ChaosRun, Rehearsal, chaos, rehearse
from vigil.sim.report import chaos_json, chaos_text, rehearsal_json, rehearsal_text
from vigil.sim.resource_checks import ExclusiveActive, ServiceHistory, unsettled
from vigil.sim.scenario import Scenario, ScenarioError, parse_scenario
from vigil.sim.scenario import check as check_scenario
from vigil.sim.simulation import Simulation, SimulationError
from vigil.sim.timeline import Fault, TimelineEntry, describe, render

__all__ = [
    "CALM",
    "AgentBehaviour",
    "AgentRun",
    "ChaosRun",
    "Checker",
    "ClusterSimulation",
    "Delay",
    "DetectionTiming",
    "ExclusiveActive",
    "FakeExecutor",
    "Fault",
    "FenceAgentBehaviour",
    "FenceRecord",
    "InvariantViolation",
    "LinkConditions",
    "Rehearsal",
    "ResourceChecker",
    "Scenario",
    "ScenarioError",
    "ServiceHistory",
    "Simulation",
    "SimulationError",
    "TimelineEntry",
    "ViewConsistency",
    "agreement",
    "chaos",
    "chaos_json",
    "chaos_text",
    "check_scenario",
    "convergence_bound_ms",
    "default_checkers",
    "describe",
    "heal",
    "liveness_bound_ms",
    "parse_scenario",
    "rehearsal_json",
    "rehearsal_text",
    "rehearse",
    "render",
    "schedule_chaos",
    "unsettled",
]
