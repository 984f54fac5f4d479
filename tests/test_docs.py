"""The documentation tells the truth: generated pages match the code, and the
Python examples of the docs and README run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lupsim.docgen import scenario_schema_markdown, variables_markdown

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("page", "generate"),
    [("scenario-schema.md", scenario_schema_markdown), ("variables.md", variables_markdown)],
)
def test_generated_page_is_up_to_date(page: str, generate) -> None:  # type: ignore[no-untyped-def]
    committed = (ROOT / "docs" / page).read_text()
    assert committed == generate(), f"docs/{page} is stale: run python -m lupsim.docgen"


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize(
    "page",
    ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))],
)
def test_python_examples_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # In a scratch directory: examples may write files (figures, datasets).
    monkeypatch.chdir(tmp_path)
    blocks = _python_blocks(ROOT / page)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, f"{page}:python", "exec"), namespace)


def test_every_scenario_key_is_documented() -> None:
    from lupsim.scenario import Scenario

    text = (ROOT / "docs" / "scenario-schema.md").read_text()
    for name in Scenario.model_fields:
        assert f"`{name}`" in text
