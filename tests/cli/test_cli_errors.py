"""Bad command-line input: one clear line, exit code 2, checked before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from lupsim.cli import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse rejects a malformed option itself
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_power_target_must_be_a_probability(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("1.5", "0", "x"):
        code, err = _run(["power", "two-arm-binomial", "--target", bad], capsys)
        assert code == 2
        assert "--target" in err


def test_power_unknown_comparison_is_refused_before_simulating(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = _run(["power", "two-arm-binomial", "--comparison", "nosuch"], capsys)
    assert code == 2
    assert "'active vs control'" in err
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("name", ["x.txt", "x.jpg2"])
def test_power_plot_needs_an_image_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    code, err = _run(["power", "two-arm-binomial", "--plot", str(tmp_path / name)], capsys)
    assert code == 2
    assert ".png or .pdf or .svg" in err


def test_cohort_out_into_a_missing_directory_or_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    for out, message in [
        (tmp_path / "missing" / "x.csv", "does not exist"),
        (afile / "x.csv", "is a file, not a directory"),
        (tmp_path / "x.xlsx", "must end in .csv or .parquet"),
    ]:
        code, err = _run(["cohort", "bliss52", "-n", "10", "--out", str(out)], capsys)
        assert code == 2, out
        assert message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_calibrate_targets_are_validated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = {
        "placebo = 43.6\n": "must be a table of figures",
        '[targets.placebo]\nsri4 = "a"\n': "targets.placebo.sri4 = 'a'",
        "[targets.placebo]\nsri4 = 143.6\n": "between 0 and 100",
        "[targets.placebo]\nsri4 = true\n": "targets.placebo.sri4 = True",
    }
    for k, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"t{k}.toml"
        path.write_text(text)
        code, err = _run(["calibrate", "bliss52", "--targets", str(path)], capsys)
        assert code == 2, text
        assert message in err, err


def test_scenarios_show_prints_a_scenario_file_given_by_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib import resources

    text = resources.files("lupsim._bundled").joinpath("two-arm-binomial.toml").read_text()
    path = tmp_path / "mine.toml"
    path.write_text(text)
    assert main(["scenarios", "show", str(path)]) == 0
    assert capsys.readouterr().out == text


def test_simulate_out_under_a_file_is_refused_before_simulating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile.txt"
    afile.write_text("keep")
    for out, message in [
        (afile / "dir", f"--out {afile / 'dir'}: {afile} is a file, not a directory"),
        (afile, f"--out {afile}: that is a file; give a directory"),
    ]:
        for extra in ([], ["--cdisc"], ["--replicates", "2"]):
            code, err = _run(["simulate", "two-arm-binomial", "--out", str(out), *extra], capsys)
            assert code == 2, (out, extra)
            assert message in err, err
            assert err.count("\n") == 1
    assert afile.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile.txt"]


def test_writers_under_a_file_raise_one_clear_error(tmp_path: Path) -> None:
    """The Python API too: no NotADirectoryError from cleaning up a part file."""
    from lupsim.cohort import Population, generate_cohort
    from lupsim.errors import LupsimError
    from lupsim.scenario import load_scenario
    from lupsim.trial import simulate_trial
    from lupsim.trial.cdisc import write_cdisc

    afile = tmp_path / "afile.txt"
    afile.write_text("keep")
    cohort = generate_cohort(Population(), 10, seed=1)
    with pytest.raises(LupsimError, match=r"could not write .*afile\.txt/x\.csv"):
        cohort.to_csv(afile / "x.csv")
    ds = simulate_trial(load_scenario("two-arm-binomial"), seed=1)
    with pytest.raises(LupsimError, match=r"afile\.txt is a file, not a directory"):
        ds.to_dir(afile / "out")
    with pytest.raises(LupsimError, match=r"afile\.txt is a file, not a directory"):
        ds.to_dir(afile)
    with pytest.raises(LupsimError, match="cannot create directory"):
        write_cdisc(ds, afile / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile.txt"]


def test_analyse_unknown_control_lists_the_arms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "trial"
    assert main(["simulate", "two-arm-binomial", "--out", str(out)]) == 0
    capsys.readouterr()
    code, err = _run(["analyse", str(out), "--control", "Control"], capsys)
    assert code == 2
    assert err == (
        f"lupsim: error: control 'Control' is not an arm of {out} (did you mean 'control'?); "
        "its arms are control, active\n"
    )
    code, err = _run(["analyse", str(out), "--control", "nosuch"], capsys)
    assert code == 2
    assert "its arms are control, active" in err
