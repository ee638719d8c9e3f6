"""Golden cases: each directory under cases/ is an input and its readable expected
transition (before / placement with reasons / actions / after).

Run ``VIGIL_BLESS=1 pytest tests/unit/policy/test_policy_golden.py`` to rewrite
expected.txt after a deliberate change, then read the diff before committing.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from policy_factory import CASES, config_from_dict, state_from_dict
from policy_invariants import check_transition

from vigil.policy import ClusterState, Transition, render, schedule

CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "input.toml").exists())
BLESS = os.environ.get("VIGIL_BLESS") == "1"


def run_case(case: Path) -> tuple[str, ClusterState, Transition]:
    spec = tomllib.loads((case / "input.toml").read_text())
    config = config_from_dict(spec["config"])
    state = state_from_dict(config, spec)
    transition = schedule(state)
    text = f"# {case.name}: {spec['description']}\n" + render(state, transition)
    return text, state, transition


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_golden_case_transition_reads_as_expected(case: Path) -> None:
    text, _, _ = run_case(case)
    expected = case / "expected.txt"
    if BLESS:
        expected.write_text(text)
    assert expected.exists(), f"{expected} missing: run with VIGIL_BLESS=1 to create it"
    assert text == expected.read_text(), f"{case.name} changed; diff it, bless with VIGIL_BLESS=1"


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_golden_case_transition_keeps_every_invariant(case: Path) -> None:
    _, state, transition = run_case(case)
    check_transition(state, transition)


def test_there_are_enough_golden_cases_to_cover_the_rules() -> None:
    assert len(CASE_DIRS) >= 20
    for case in CASE_DIRS:
        spec = tomllib.loads((case / "input.toml").read_text())
        assert spec.get("description"), f"{case.name} has no one-line description"
