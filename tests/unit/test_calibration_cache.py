"""The cohort fit's disk cache is keyed by every source the fit depends on."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

import lupsim.random
from lupsim import fitting
from lupsim.activity import classification
from lupsim.cohort import calibration, eligibility, model, vocabulary


@pytest.mark.parametrize(
    "module", [model, lupsim.random, classification, vocabulary, eligibility, fitting]
)
def test_a_changed_source_changes_the_cache_key(
    module: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LUPSIM_NO_CACHE", raising=False)
    monkeypatch.setenv("LUPSIM_CACHE_DIR", str(tmp_path))
    before = calibration._cache_file("{}", None)
    assert before is not None
    assert calibration._cache_file("{}", None) == before  # stable
    edited = tmp_path / "edited.py"
    edited.write_bytes(Path(str(module.__file__)).read_bytes() + b"\n# edited\n")
    monkeypatch.setattr(module, "__file__", str(edited))
    assert calibration._cache_file("{}", None) != before


def test_no_cache_means_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUPSIM_NO_CACHE", "1")
    assert calibration._cache_file("{}", None) is None
