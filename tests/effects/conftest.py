"""Fixtures for the effect and plugin tests: mixtree's own test plugins, built once per source change."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.effects.plugins.dpf import build as dpf

CACHE = Path.home() / ".cache" / "mixtree-test-plugins"


@pytest.fixture(scope="session")
def dpf_plugins() -> dict[str, Path]:
    """Return the built test plugins keyed ``"<plugin>.<format>"`` (``"mtgain.clap"``), building
    them into ``~/.cache/mixtree-test-plugins/<source hash>`` on first use."""
    reason = dpf.missing()
    if reason:
        pytest.skip(f"cannot build the test plugins: {reason}")
    return dpf.build(CACHE / dpf.source_hash())
