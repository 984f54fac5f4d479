"""`lupsim cohort`: table and JSON output, --out, and one-line errors (exit 2)."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lupsim.cli import main
from lupsim.cohort.vocabulary import ORGAN_DOMAIN_NAMES, RACE_GROUPS

BLISS52_TOML = Path(__file__).resolve().parents[2] / "scenarios" / "bliss52.toml"

EXPECTED_VARIABLES = (
    "female_pct",
    "age_mean",
    "age_sd",
    "sledai_mean",
    "sledai_sd",
    "bilag_any_a_pct",
    "bilag_a_or_2b_pct",
    "anti_dsdna_pct",
    "low_c3_pct",
    "low_c4_pct",
    "ana_pct",
    "prednisone_pct",
    "prednisone_mean_mg",
    "prednisone_gt_7_5_pct",
    "antimalarial_pct",
    "immunosuppressant_pct",
    *(f"race_{g}_pct" for g in RACE_GROUPS),
    *(f"domain_{d}_pct" for d in ORGAN_DOMAIN_NAMES),
)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI in-process; argparse errors exit via SystemExit."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def published_bliss52() -> tuple[dict[str, float], dict[str, str]]:
    """The figures of scenarios/bliss52.toml as Table 1 variables: numbers, bounds."""
    pop = tomllib.loads(BLISS52_TOML.read_text(encoding="utf-8"))["population"]
    numbers: dict[str, float] = {}
    bounds: dict[str, str] = {}
    for key, value in pop.items():
        if isinstance(value, bool | str):
            continue
        if isinstance(value, int | float) and key.endswith(("_pct", "_mean", "_sd", "_mg")):
            numbers[key] = float(value)
    for table, stem in (("race_pct", "race"), ("region_pct", "region"), ("domain_pct", "domain")):
        for key, value in pop[table].items():
            if isinstance(value, str):
                bounds[f"{stem}_{key}_pct"] = value
            else:
                numbers[f"{stem}_{key}_pct"] = float(value)
    for g in RACE_GROUPS:  # a group the table does not name is stated as 0 %
        numbers.setdefault(f"race_{g}_pct", 0.0)
    return numbers, bounds


@pytest.fixture(scope="module")
def bliss52_json() -> list[dict[str, Any]]:
    """bliss52, n = 50, seed 1, as JSON (module-scoped: capsys is per test)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["cohort", "bliss52", "-n", "50", "--seed", "1", "--format", "json"])
    assert code == 0
    rows = json.loads(out.getvalue())
    assert isinstance(rows, list)
    return rows


# --- output ------------------------------------------------------------------------------


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["cohort", "bliss52", "-n", "50", "--seed", "1"], capsys)
    assert code == 0
    assert err == ""
    assert out.startswith("Cohort of 50 patients (bliss52), seed 1;")
    assert "generated" in out
    assert "published" in out
    assert "SELENA-SLEDAI" in out
    assert "<16" in out  # the renal bound is shown as published


def test_json_rows_have_exactly_the_documented_keys(bliss52_json: list[dict[str, Any]]) -> None:
    _, bounds = published_bliss52()
    assert bounds  # bliss52 states some figures as bounds
    for row in bliss52_json:
        assert isinstance(row, dict)
        if row["variable"] in bounds:
            assert set(row) == {"variable", "value", "target", "bound"}, row
            assert row["bound"] == bounds[row["variable"]]
            assert row["target"] is None
        else:
            assert set(row) == {"variable", "value", "target"}, row
        assert isinstance(row["value"], int | float)


def test_json_contains_every_table1_variable(bliss52_json: list[dict[str, Any]]) -> None:
    variables = [row["variable"] for row in bliss52_json]
    assert len(variables) == len(set(variables))
    missing = set(EXPECTED_VARIABLES) - set(variables)
    assert not missing
    assert "domain_renal_pct" in variables


def test_json_targets_are_the_published_figures(bliss52_json: list[dict[str, Any]]) -> None:
    numbers, bounds = published_bliss52()
    by_variable = {row["variable"]: row for row in bliss52_json}
    assert by_variable["domain_renal_pct"]["bound"] == "<16"
    assert by_variable["female_pct"]["target"] == 94.9
    checked = 0
    for variable, row in by_variable.items():
        if variable in numbers:
            assert row["target"] == pytest.approx(numbers[variable]), variable
            checked += 1
        elif variable not in bounds:
            # a figure the paper does not give has no target
            assert row["target"] is None, variable
    # every stated number appears as a row
    assert checked == len(numbers), set(numbers) - set(by_variable)


def test_out_writes_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "x.csv"
    code, out, _ = run(
        ["cohort", "bliss52", "-n", "60", "--seed", "2", "--out", str(out_file)], capsys
    )
    assert code == 0
    assert f"wrote 60 patients to {out_file}" in out
    df = pd.read_csv(out_file)
    assert len(df) == 60
    assert "selena_sledai" in df.columns
    assert (df["selena_sledai"] >= 6).all()  # bliss52 includes only SELENA-SLEDAI >= 6
    assert not list(tmp_path.glob("*.part"))
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_same_seed_same_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["cohort", "bliss52", "-n", "40", "--seed", "7", "--format", "json"]
    first = run(argv, capsys)
    second = run(argv, capsys)
    assert first[0] == second[0] == 0
    assert first[1] == second[1]
    other = run(["cohort", "bliss52", "-n", "40", "--seed", "8", "--format", "json"], capsys)
    assert other[1] != first[1]


# --- errors: exit 2, one line, no traceback -----------------------------------------------


def assert_one_line_error(code: int, out: str, err: str) -> str:
    assert code == 2
    assert "Traceback" not in err
    assert err.count("lupsim: error:") == 1, err
    assert err.startswith("lupsim: error:")
    assert out == ""
    return err


def test_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    err = assert_one_line_error(*run(["cohort", "blis52", "-n", "5"], capsys))
    assert "unknown scenario 'blis52'" in err
    assert "did you mean 'bliss52'?" in err


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["-n", "0"], "argument -n: must be >= 1, got 0"),
        (["-n", "abc"], "argument -n: must be a whole number, got 'abc'"),
        (["--seed", "-1"], "argument --seed: must be >= 0, got -1"),
        (["--format", "xml"], "argument --format"),
    ],
)
def test_bad_arguments(argv: list[str], text: str, capsys: pytest.CaptureFixture[str]) -> None:
    err = assert_one_line_error(*run(["cohort", "bliss52", *argv], capsys))
    assert text in err.splitlines()[0]


def test_bad_toml_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.toml"
    err = assert_one_line_error(*run(["cohort", str(missing), "-n", "5"], capsys))
    assert "does not exist" in err
    assert str(missing) in err


def test_invalid_toml_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\nfemale_pct = \n', encoding="utf-8")
    err = assert_one_line_error(*run(["cohort", str(path), "-n", "5"], capsys))
    assert f"{path}: not valid TOML" in err


def test_out_of_range_figure_in_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "f120.toml"
    path.write_text('name = "f120"\n[population]\nfemale_pct = 120\n', encoding="utf-8")
    err = assert_one_line_error(*run(["cohort", str(path), "-n", "5"], capsys))
    assert "population.female_pct: must be <= 100, got 120" in err
    assert str(path) in err


def test_out_into_a_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "nodir" / "x.csv"
    err = assert_one_line_error(
        *run(["cohort", "bliss52", "-n", "5", "--out", str(target)], capsys)
    )
    assert f"--out {target}: directory {target.parent} does not exist" in err
    assert not target.parent.exists()


def test_out_into_a_missing_directory_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "nodir" / "x.csv"
    _, _, err = run(["cohort", "bliss52", "-n", "5", "--out", str(target)], capsys)
    assert not err.rstrip().endswith("None"), err
    assert "directory" in err


def test_non_utf8_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'name = "x"\n# caf\xe9\n')
    err = assert_one_line_error(*run(["cohort", str(path), "-n", "5"], capsys))
    assert str(path) in err


# --- the real command -----------------------------------------------------------------------


def test_subprocess_json(bliss52_json: list[dict[str, Any]]) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lupsim",
            "cohort",
            "bliss52",
            "-n",
            "50",
            "--seed",
            "1",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    rows = json.loads(proc.stdout)
    # the installed command prints what the in-process call printed
    assert rows == bliss52_json
