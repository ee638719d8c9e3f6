"""Converting a model to TOML and reading it back gives the same model."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from strategies import cluster_configs

from vigil.config import ClusterConfig, Diagnostics
from vigil.config.convert import to_toml
from vigil.config.native import read_native


def _read_back(text: str) -> tuple[ClusterConfig | None, Diagnostics]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vigil.toml"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        diags = Diagnostics()
        return read_native(path, diags), diags


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cluster_configs())
def test_any_valid_model_survives_to_toml_and_back_unchanged(config: ClusterConfig) -> None:
    text = to_toml(config)
    back, diags = _read_back(text)
    errors = [d.format() for d in diags.items if d.is_error]
    assert not errors, "\n".join(errors) + "\n--- TOML ---\n" + text
    assert back == config, text


@settings(max_examples=50, deadline=None)
@given(cluster_configs())
def test_to_toml_is_deterministic_and_idempotent(config: ClusterConfig) -> None:
    text = to_toml(config)
    assert to_toml(config) == text
    back, _ = _read_back(text)
    assert back is not None
    # The comments name the source file, which differs; everything else is stable.
    strip = [line for line in to_toml(back).splitlines() if not line.startswith("#")]
    assert strip == [line for line in text.splitlines() if not line.startswith("#")]
