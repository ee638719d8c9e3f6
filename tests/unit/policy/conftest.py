"""Fixtures for the policy tests: the factory of policy_factory.py, by fixture."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from policy_factory import config_from_dict, state_from_dict

from vigil.config import ClusterConfig
from vigil.policy import ClusterState


@pytest.fixture(scope="session")
def make_config() -> Callable[[Mapping[str, Any]], ClusterConfig]:
    return config_from_dict


@pytest.fixture(scope="session")
def make_state() -> Callable[[ClusterConfig, Mapping[str, Any]], ClusterState]:
    return state_from_dict
