"""lupsim report: one HTML page, clear errors, nothing partial."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from lupsim.cli import main


def test_report_writes_one_self_contained_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    assert main(["report", "two-arm-binomial", "--out", str(out), "--seed", "3"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    # Figures are embedded, not linked: the page stands alone.
    assert "data:image/png;base64," in html or "<svg" in html
    assert 'src="http' not in html
    assert not list(tmp_path.glob("*.part"))


def test_report_with_replicates_has_monte_carlo_se(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    argv = ["report", "two-arm-binomial", "--out", str(out), "--replicates", "6"]
    argv += ["--power-n", "100,200", "--power-replicates", "6"]
    assert main(argv) == 0
    html = out.read_text(encoding="utf-8")
    assert "Monte Carlo" in html


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "{tmp}/r.txt"], "must end in .html"),
        (["--out", "{tmp}/missing/r.html"], "does not exist"),
        (["--out", "{tmp}"], "must end in .html"),
        (["--out", "{tmp}/d.html"], "that is a directory"),
        (["--out", "{tmp}/r.html", "--power-n", "100,200"], "needs --replicates"),
        (["--out", "{tmp}/r.html", "--replicates", "-1"], "must be >= 0"),
        (
            ["--out", "{tmp}/r.html", "--replicates", "2", "--power-n", "2,100"],
            "power_sizes: 2 is too small",
        ),
    ],
)
def test_report_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (tmp_path / "d.html").mkdir()  # a directory where the page would go
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    # argparse rejects a bad number itself (SystemExit 2); the rest return 2.
    argparse_error = "-1" in argv
    ctx = pytest.raises(SystemExit) if argparse_error else contextlib.nullcontext()
    with ctx:
        assert main(["report", "two-arm-binomial", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not [f for f in tmp_path.rglob("*.htm*") if f.is_file()]
