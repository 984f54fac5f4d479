"""Shared test set-up: a private calibration cache, and small shared fixtures."""

from __future__ import annotations

import os
import tempfile

import pytest

# Hermetic: fits made by the tests go to a throw-away directory, never to the
# user's cache (set before lupsim is imported by any test module).
os.environ.setdefault("LUPSIM_CACHE_DIR", tempfile.mkdtemp(prefix="lupsim-test-cache-"))


@pytest.fixture(scope="session")
def bliss52():  # type: ignore[no-untyped-def]
    """The bundled BLISS-52 scenario."""
    from lupsim.scenario import load_scenario

    return load_scenario("bliss52")


@pytest.fixture
def no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn the on-disk calibration cache off for one test."""
    monkeypatch.setenv("LUPSIM_NO_CACHE", "1")
