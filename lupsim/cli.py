"""The ``lupsim`` command line, a thin layer over the Python API.

Every command that prints results takes ``--format json``. A bad scenario or
argument prints one clear message to stderr and exits with code 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lupsim import __version__
from lupsim.errors import LupsimError

__all__ = ["main"]

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in lupsim's one-line style (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"lupsim: error: {message}\n(see '{self.prog} --help')\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _json_number(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(x, 6)


def _cmd_cohort(args: argparse.Namespace) -> int:
    from lupsim.cohort import generate_cohort
    from lupsim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    cohort = generate_cohort(
        scenario.population, args.n, args.seed, eligibility=scenario.eligibility
    )
    if args.out:
        _write_patients(cohort, Path(args.out))
    if args.format == "json":
        rows: list[dict[str, Any]] = []
        for _, r in cohort.table1().iterrows():
            row: dict[str, Any] = {
                "variable": r["variable"],
                "value": _json_number(float(r["value"])),
                "target": _json_number(float(r["target"])) if r["relation"] == "=" else None,
            }
            if r["relation"] not in ("", "="):
                row["bound"] = f"{r['relation']}{r['target']:g}"
            rows.append(row)
        print(json.dumps(rows, indent=2))
    else:
        print(cohort.summary())
        if args.out:
            print(f"\nwrote {cohort.n} patients to {args.out}")
    return 0


def _write_patients(cohort: Any, path: Path) -> None:
    if path.suffix == ".parquet":
        if importlib.util.find_spec("pyarrow") is None:
            raise LupsimError(
                f"--out {path}: writing Parquet needs pyarrow; install it "
                "(pip install 'lupsim[parquet]') or write a .csv file"
            )
        tmp = path.with_name(path.name + ".part")
        cohort.to_frame().to_parquet(tmp, index=False)
        tmp.replace(path)
    else:
        cohort.to_csv(path)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and tests)."""
    parser = _Parser(
        prog="lupsim",
        description="Simulate randomised clinical trials in systemic lupus erythematosus.",
    )
    parser.add_argument("--version", action="version", version=f"lupsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "cohort",
        help="generate a cohort and print its Table 1 beside the published one",
        description="Generate a cohort of a scenario's population, screened by its eligibility "
        "rules, and print its baseline table beside the published figures.",
    )
    p.add_argument("scenario", help="bundled scenario name (e.g. bliss52) or path to a .toml file")
    p.add_argument("-n", type=_positive_int, default=1000, help="patients to generate (1000)")
    p.add_argument("--seed", type=_seed, default=1, help="seed of the run (1)")
    p.add_argument("--out", help="write the patients to this .csv (or .parquet) file")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p.set_defaults(func=_cmd_cohort)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return func(args)
    except LupsimError as exc:
        print(f"lupsim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("lupsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into a command that stopped reading (e.g. head).
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
