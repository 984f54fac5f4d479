"""The ``lupsim`` command line, a thin layer over the Python API.

Every command that prints results takes ``--format json``. A bad scenario or
argument prints one clear message to stderr and exits with code 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lupsim import __version__
from lupsim.errors import LupsimError, ScenarioError

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


def _nonnegative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


# A seed is any non-negative whole number.
_seed = _nonnegative_int


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (e.g. 0.9), got {value:g}")
    return value


def _check_out_file(option: str, path: Path, suffixes: tuple[str, ...]) -> None:
    """Refuse an output file that cannot be written, before any work is done."""
    if path.suffix.lower() not in suffixes:
        raise LupsimError(f"{option} {path}: the file name must end in {' or '.join(suffixes)}")
    if path.is_dir():
        raise LupsimError(f"{option} {path}: that is a directory; give a file name inside it")
    parent = path.parent
    if not parent.exists():
        raise LupsimError(f"{option} {path}: directory {parent} does not exist; create it first")
    if not parent.is_dir():
        raise LupsimError(f"{option} {path}: {parent} is a file, not a directory")


def _check_out_dir(option: str, path: Path) -> None:
    """Refuse an output directory that cannot be created, before any work is done."""
    from lupsim.trial.dataset import file_in_the_way

    blocking = file_in_the_way(path)
    if blocking == path:
        raise LupsimError(f"{option} {path}: that is a file; give a directory (new or existing)")
    if blocking is not None:
        raise LupsimError(f"{option} {path}: {blocking} is a file, not a directory")


def _load(args: argparse.Namespace, name: str) -> Any:
    """Load a scenario and remember its file, so later errors about it name the file."""
    from lupsim.scenario import load_scenario

    scenario = load_scenario(name)
    args.loaded_from = scenario.origin
    return scenario


def _json_number(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(x, 6)


def _cmd_cohort(args: argparse.Namespace) -> int:
    from lupsim.cohort import generate_cohort

    if args.out:
        _check_out_file("--out", Path(args.out), (".csv", ".parquet"))
    scenario = _load(args, args.scenario)
    n = args.n or (scenario.design.n_randomised if scenario.design else 1000)
    cohort = generate_cohort(scenario.population, n, args.seed, eligibility=scenario.eligibility)
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
        enrich = scenario.eligibility.enrich if scenario.eligibility is not None else ()
        if enrich:
            print(
                f"\nThe published figures describe the population before enrichment "
                f"(eligibility.enrich: {'; '.join(enrich)}): the cohort departs from them "
                "where the enrichment selects."
            )
        if args.out:
            print(f"\nwrote {cohort.n} patients to {args.out}")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from lupsim.runner import simulate_replicates, summarise_trial
    from lupsim.trial import simulate_trial

    scenario = _load(args, args.scenario)
    if scenario.design is None:
        raise LupsimError(
            f"scenario {scenario.where()} has no [design] table; add a [design] table and "
            "at least two [[design.arms]] to simulate a trial "
            "(see docs/scenario-schema.md#trialdesign)"
        )
    out = Path(args.out) if args.out else None
    if out is not None:
        _check_out_dir("--out", out)
    if args.explain:
        from lupsim.trial.explain import explain_subject

        print(explain_subject(simulate_trial(scenario, args.seed), args.explain))
        return 0
    if args.cdisc and out is None:
        raise LupsimError("--cdisc writes CDISC-style datasets into --out DIR; give --out")
    if args.replicates == 1:
        ds = simulate_trial(scenario, args.seed)
        if out is not None:
            ds.to_dir(out)
            if args.cdisc:
                from lupsim.trial.cdisc import write_cdisc

                write_cdisc(ds, out)
        result = simulate_replicates(scenario, args.seed, 1) if args.format == "json" else None
        seq, unreached = _interim(scenario, ds)
        if args.format == "json":
            assert result is not None
            doc = result.to_json()
            if seq is not None or unreached:
                doc["sequential"] = None if seq is None else seq.as_dict()
                doc["unreached_milestones"] = unreached
            print(json.dumps(doc, indent=2))
            return 0
        print(_consort(ds))
        print()
        table, _ = summarise_trial(ds)
        if ds.binomial:
            table = table.rename(columns={"sri4": "response_pct (sri4)"})
        print(f"Week {ds.primary_week:g} endpoints (% of randomised):")
        print(table.round(1).to_string())
        if seq is not None:
            print()
            print(seq)
        for m in scenario.design.milestones:
            if m.name in unreached:
                print(
                    f"\nInterim look {m.name} never happened: fewer than {m.n_patients} "
                    f"patients reached week {m.week:g} before the final data cut (those who "
                    "leave the study never reach it); lower its n_patients."
                )
        if out is not None:
            extra = " and ADSL/ADEFF/ADTTE with variables.csv" if args.cdisc else ""
            print(f"\nwrote subjects, visits and events{extra} to {out}/")
        return 0
    if out is not None:
        for k in range(args.replicates):
            ds = simulate_trial(scenario, args.seed, replicate=k)
            ds.to_dir(out / f"replicate_{k:05d}")
            if args.cdisc:
                from lupsim.trial.cdisc import write_cdisc

                write_cdisc(ds, out / f"replicate_{k:05d}")
    result = simulate_replicates(scenario, args.seed, args.replicates)
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(result.summary())
        if out is not None:
            print(f"\nwrote {args.replicates} datasets to {out}/replicate_*/")
    return 0


def _interim(scenario: Any, ds: Any) -> tuple[Any, list[str]]:
    """One trial's group-sequential account (None without interim looks) and
    the names of the design's milestones that never fired."""
    design = scenario.design
    fired = {str(det).split(":", 1)[0] for _, ev, det in ds.event_log.milestones}
    unreached = [m.name for m in design.milestones if m.name not in fired]
    if scenario.analysis is None or scenario.analysis.interim is None:
        return None, unreached
    from lupsim.analysis.interim import sequential_analysis

    return sequential_analysis(ds, scenario.analysis, n_planned=design.n_randomised), unreached


def _consort(ds: Any) -> str:
    """CONSORT-style counts of one trial."""
    scr = ds.screening
    sub = ds.subjects
    lines = [
        f"{ds.scenario}, seed {ds.seed}: screened {scr['screened']}, screen failures "
        f"{scr['screened'] - scr['randomised']}, randomised {scr['randomised']}",
    ]
    for rule, count in scr.get("failures", {}).items():
        if count:
            lines.append(f"  screen failure, {rule}: {count}")
    for arm in ds.arms:
        a = sub[sub["arm"] == arm]
        reasons = a.loc[a["DCSREAS"] != "", "DCSREAS"].value_counts()
        detail = ", ".join(f"{k} {v}" for k, v in reasons.items())
        lines.append(
            f"  {arm}: randomised {len(a)}, completed {int(a['COMPLFL'].sum())}, "
            f"discontinued {int((a['DCSREAS'] != '').sum())}" + (f" ({detail})" if detail else "")
        )
    return "\n".join(lines)


def _cmd_calibrate(args: argparse.Namespace) -> int:
    import tomllib

    from lupsim.trial.calibration import BLISS52_TARGETS, calibrate_trial

    scenario = _load(args, args.scenario)
    targets = BLISS52_TARGETS
    if args.targets:
        try:
            raw = tomllib.loads(Path(args.targets).read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise LupsimError(f"--targets {args.targets}: cannot read it: {exc}") from None
        targets = _check_targets(args.targets, raw.get("targets", raw))
    if args.out:
        _check_out_file("--out", Path(args.out), (".toml",))

    def progress(k: int, worst: float) -> None:
        if args.format != "json":
            print(
                f"  evaluation {k}: largest residual {worst:.2f} tolerance units", file=sys.stderr
            )

    result = calibrate_trial(
        scenario, targets, n_per_arm=args.n_per_arm, seed=args.seed, progress=progress
    )
    if args.out:
        _write_fit(result, Path(args.out))
    if args.format == "json":
        print(
            json.dumps(
                {
                    "parameters": result.parameters(),
                    "fit": result.table(),
                    "evaluations": result.evaluations,
                },
                indent=2,
            )
        )
        return 0
    print(f"{'arm':16s} {'figure':20s} {'target':>7s} {'achieved':>9s} {'diff':>6s}")
    for r in result.table():
        print(
            f"{r['arm']:16s} {r['figure']:20s} {r['target']:7.1f} {r['achieved']:9.1f} "
            f"{r['difference']:+6.1f}"
        )
    print("\nfitted parameters:")
    for k, v in result.parameters().items():
        print(f"  {k} = {v:.4g}")
    return 0


def _check_targets(source: str, raw: Any) -> dict[str, dict[str, float]]:
    """Targets as {arm: {figure: percentage}}, or a one-line error naming the entry."""
    if not isinstance(raw, dict) or not raw:
        raise LupsimError(
            f"--targets {source}: expected tables [targets.<arm>] of figures, "
            "e.g. [targets.placebo] sri4 = 43.6"
        )
    out: dict[str, dict[str, float]] = {}
    for arm, figures in raw.items():
        if not isinstance(figures, dict):
            raise LupsimError(
                f"--targets {source}: targets.{arm} must be a table of figures, "
                f"e.g. [targets.{arm}] sri4 = 43.6; got {figures!r}"
            )
        out[arm] = {}
        for name, value in figures.items():
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or not 0.0 <= float(value) <= 100.0:
                raise LupsimError(
                    f"--targets {source}: targets.{arm}.{name} = {value!r}: a target is a "
                    "percentage between 0 and 100"
                )
            out[arm][name] = float(value)
    return out


def _write_fit(result: Any, path: Path) -> None:
    p = result.parameters()
    lines = ["# Parameters fitted by lupsim calibrate; paste into a scenario.", "[disease]"]
    for k in ("standard_care_logodds", "drug_logodds", "flare_severity", "pga_visit_sd"):
        lines.append(f"{k} = {p[k]:.6g}")
    lines += [
        "",
        "[pkpd]",
        f"ec50_ug_ml = {p['ec50_ug_ml']:.6g}",
        "",
        "[design.discontinuation]",
        f"lack_of_efficacy_per_4w = {p['lack_of_efficacy_per_4w']:.6g}",
        f"withdrawal_per_4w = {p['withdrawal_per_4w']:.6g}",
        "",
    ]
    try:
        path.write_text("\n".join(lines))
    except OSError as exc:
        raise LupsimError(f"could not write {path}: {exc.strerror or exc}") from None


def _sizes(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be whole numbers separated by commas, e.g. 400,600,865; got {text!r}"
        ) from None
    if not values or min(values) < 2:
        raise argparse.ArgumentTypeError(f"every total n must be >= 2, got {text!r}")
    return values


def _cmd_power(args: argparse.Namespace) -> int:
    from lupsim.analysis.power import run_power, sample_size

    if args.resume and not args.store:
        raise LupsimError("--resume continues a run kept with --store DIR; give --store")
    if args.plot:
        _check_out_file("--plot", Path(args.plot), (".png", ".pdf", ".svg"))
    scenario = _load(args, args.scenario)
    if args.comparison and scenario.design is not None:
        control = scenario.design.control_arm
        names = [f"{a.name} vs {control}" for a in scenario.design.arms if a.name != control]
        if args.comparison not in names:
            raise LupsimError(
                f"--comparison {args.comparison!r}: not a comparison of {scenario.name}; "
                f"use one of {', '.join(repr(n) for n in names)}"
            )
    show = args.format != "json" and sys.stderr.isatty()
    result = run_power(
        scenario,
        args.n,
        args.replicates,
        args.seed,
        workers=args.workers,
        dask_address=args.dask,
        store=args.store,
        resume=args.resume,
        progress=show,
    )
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        ax = result.plot()
        try:
            ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
        except (OSError, ValueError) as exc:
            raise LupsimError(f"--plot {args.plot}: cannot write it ({exc})") from None
    if args.format == "json":
        print(json.dumps(result.to_json(args.target, args.comparison), indent=2))
        return 0
    print(result.summary())
    ss = sample_size(result, args.target, args.comparison)
    lo, hi = ss["n_total_ci"]
    simulated = (
        f"{ss['n_total']:.0f} in total (95% CI {lo:.0f}-{hi:.0f}) from the simulations"
        if math.isfinite(ss["n_total"])
        else "not estimable from the simulations (the fitted power does not rise with n: "
        "no benefit, or every replicate rejected or none did)"
    )
    analytic = (
        f"{ss['analytic_n_total']:.0f} by the normal approximation"
        if math.isfinite(ss["analytic_n_total"])
        else "none by the normal approximation (no benefit in the simulated response rates)"
    )
    print(
        f"\nSample size for {100 * args.target:g}% power ({ss['comparison']}): "
        f"{simulated}; {analytic}"
    )
    if result.retried:
        print(f"{result.retried} task(s) were re-run after a worker crashed", file=sys.stderr)
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def _cmd_analyse(args: argparse.Namespace) -> int:
    from lupsim.analysis.report import analyse
    from lupsim.trial.io import read_dataset

    plan = _load(args, args.scenario).analysis if args.scenario else None
    ds = read_dataset(args.directory, control=args.control)
    report = analyse(ds, plan)
    if args.format == "json":
        doc = {
            "estimates": json.loads(report.summary().to_json(orient="records")),
            "multiplicity": json.loads(report.multiplicity.to_json(orient="records")),
        }
        if report.sequential is not None:
            doc["sequential"] = report.sequential.as_dict()
        print(json.dumps(doc, indent=2))
    else:
        print(f"{args.directory}: {ds.n} subjects, arms {', '.join(ds.arms)}")
        if plan is None:
            print(
                "No --scenario: the default plan (SRI-4 at the last visit by logistic "
                "regression adjusted for the strata; no secondary analyses). Give --scenario "
                "NAME to analyse by that scenario's plan."
            )
        print(report)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from lupsim.report import build_report

    out = Path(args.out)
    _check_out_file("--out", out, (".html", ".htm"))
    if args.power_n and not args.replicates:
        raise LupsimError("--power-n draws a power curve, which needs --replicates N (N > 0)")
    scenario = _load(args, args.scenario)
    report = build_report(
        scenario,
        args.seed,
        replicates=args.replicates,
        power_sizes=args.power_n,
        power_replicates=args.power_replicates,
    )
    path = report.write(out)
    print(f"wrote {path}")
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from importlib import resources

    from lupsim.scenario import bundled_scenarios, load_scenario

    if args.action == "show":
        if not args.name:
            raise LupsimError("lupsim scenarios show NAME: give a scenario name")
        load_scenario(args.name)  # a clear error for an unknown name or a bad file
        if args.name in bundled_scenarios():
            text = resources.files("lupsim._bundled").joinpath(f"{args.name}.toml").read_text()
        else:  # a scenario file given by its path
            text = Path(args.name).read_text(encoding="utf-8")
        print(text, end="")
        return 0
    rows = []
    for name in bundled_scenarios():
        s = load_scenario(name)
        rows.append({"name": name, "title": s.title})
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    else:
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            print(f"{r['name']:{width}s}  {r['title']}")
    return 0


def _cmd_new_scenario(args: argparse.Namespace) -> int:
    from lupsim.template import SCENARIO_TEMPLATE

    path = Path(args.path)
    if path.exists():
        raise LupsimError(f"{path} already exists; choose a new file name")
    try:
        path.write_text(SCENARIO_TEMPLATE)
    except OSError as exc:
        raise LupsimError(f"could not write {path}: {exc.strerror or exc}") from None
    print(f"wrote {path}: edit it, then run lupsim simulate {path}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from lupsim.validation import run_validation

    show = args.format != "json"
    rows = run_validation(
        replicates=args.replicates,
        seed=args.seed,
        progress=(lambda msg: print(msg, file=sys.stderr)) if show else None,
    )
    if args.format == "json":
        print(json.dumps([r.as_dict() for r in rows], indent=2))
    else:
        print(
            f"{'check':58s} {'reference':>10s} {'simulated':>10s} {'MC SE':>7s} "
            f"{'tolerance':>10s}  result"
        )
        for r in rows:
            print(r.line())
        failed = sum(not r.passed for r in rows)
        print(f"\n{len(rows) - failed} of {len(rows)} checks passed")
    return 0 if all(r.passed for r in rows) else 1


def _write_patients(cohort: Any, path: Path) -> None:
    if path.suffix == ".parquet":
        if importlib.util.find_spec("pyarrow") is None:
            raise LupsimError(
                f"--out {path}: writing Parquet needs pyarrow; install it "
                "(pip install 'lupsim[parquet]') or write a .csv file"
            )
        tmp = path.with_name(path.name + ".part")
        try:
            cohort.to_frame().to_parquet(tmp, index=False)
            tmp.replace(path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise LupsimError(f"--out {path}: could not write it: {exc.strerror or exc}") from None
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
    p.add_argument(
        "-n",
        type=_positive_int,
        default=None,
        help="patients to generate (default: the design's n_randomised, else 1000)",
    )
    p.add_argument("--seed", type=_seed, default=1, help="seed of the run (1)")
    p.add_argument("--out", help="write the patients to this .csv (or .parquet) file")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p.set_defaults(func=_cmd_cohort)

    p = sub.add_parser(
        "simulate",
        help="simulate a trial (or many) and print CONSORT counts and the endpoints",
        description="Simulate one trial of a scenario and print its CONSORT counts and "
        "week-52 endpoints per arm; with --replicates, the mean over replicates with "
        "Monte Carlo SE.",
    )
    p.add_argument("scenario", help="bundled scenario name or path to a .toml file")
    p.add_argument("--seed", type=_seed, default=1, help="seed of the run (1)")
    p.add_argument("--replicates", type=_positive_int, default=1, help="trials to run (1)")
    p.add_argument("--out", help="write the datasets (CSV; Parquet with pyarrow) to DIR")
    p.add_argument(
        "--cdisc",
        action="store_true",
        help="with --out: also write ADSL, ADEFF, ADTTE and a variables table",
    )
    p.add_argument(
        "--explain",
        metavar="SUBJECT",
        help="print one subject's course (USUBJID such as LUP-00001, or a number)",
    )
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser(
        "calibrate",
        help="refit the disease model so a scenario reproduces published results",
        description="Fit the disease, PK/PD and discontinuation parameters so that the "
        "scenario's trial reproduces per-arm SRI-4, its components and completion "
        "(default: the BLISS-52 results).",
    )
    p.add_argument("scenario", help="bundled scenario name or path to a .toml file")
    p.add_argument("--targets", help="TOML file: [targets.<arm>] sri4 = 43.6 ...")
    p.add_argument(
        "--n-per-arm",
        type=_positive_int,
        default=6000,
        help="patients per arm of the calibration trial (6000)",
    )
    p.add_argument("--seed", type=_seed, default=52, help="seed of the calibration trial")
    p.add_argument("--out", help="write the fitted parameters as scenario tables (TOML)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p.set_defaults(func=_cmd_calibrate)

    p = sub.add_parser(
        "power",
        help="simulated power over sample sizes, with Monte Carlo error and a sample size",
        description="Simulate the whole trial (cohort, engine, endpoints, primary analysis, "
        "interim looks) REPLICATES times at each total n, and print the power of each "
        "comparison with Monte Carlo SE and Clopper-Pearson CI, the normal-approximation "
        "power for the same response rates, and the n for the target power.",
    )
    p.add_argument("scenario", help="bundled scenario name or path to a .toml file")
    p.add_argument(
        "--n",
        type=_sizes,
        default=None,
        help="total sample sizes, e.g. 400,600,865 (default: the design's)",
    )
    p.add_argument(
        "--replicates", type=_positive_int, default=1000, help="trials per sample size (1000)"
    )
    p.add_argument("--seed", type=_seed, default=1, help="seed of the run (1)")
    p.add_argument("--workers", type=_positive_int, default=1, help="local worker processes (1)")
    p.add_argument("--dask", metavar="ADDRESS", help="run on the Dask scheduler at ADDRESS")
    p.add_argument("--store", metavar="DIR", help="keep finished replicates in DIR")
    p.add_argument(
        "--resume", action="store_true", help="continue the interrupted run kept in --store"
    )
    p.add_argument("--target", type=_probability, default=0.9, help="target power (0.9)")
    p.add_argument("--comparison", help="comparison for the sample size (default: last arm)")
    p.add_argument("--plot", metavar="PNG", help="write the power curve to this file")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p.set_defaults(func=_cmd_power)

    p = sub.add_parser(
        "analyse",
        help="analyse datasets written by 'lupsim simulate --out DIR'",
        description="Read subjects.csv/visits.csv (or .parquet) from DIR and run the analysis "
        "plan: primary, secondary and multiplicity.",
    )
    p.add_argument("directory", help="directory written by lupsim simulate --out")
    p.add_argument("--scenario", help="take the analysis plan from this scenario")
    p.add_argument("--control", help="name of the control arm (default: placebo or the first)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p.set_defaults(func=_cmd_analyse)

    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a simulated trial",
        description="Simulate the scenario's trial, analyse it and write one HTML page: "
        "scenario, CONSORT flow, Table 1 by arm, primary and secondary results, "
        "figures and (with --replicates) Monte Carlo SEs and a power curve.",
    )
    p.add_argument("scenario", help="bundled scenario name or path to a .toml file")
    p.add_argument("--out", required=True, metavar="HTML", help="file to write (report.html)")
    p.add_argument("--seed", type=_seed, default=1, help="seed of the run (1)")
    p.add_argument(
        "--replicates",
        type=_nonnegative_int,
        default=0,
        help="also simulate this many trials for Monte Carlo SEs and a power curve (0)",
    )
    p.add_argument(
        "--power-n",
        type=_sizes,
        metavar="N1,N2,...",
        help="total sizes of the power curve (default: the sizes giving about 50-95%% "
        "analytic power, and the design's size)",
    )
    p.add_argument(
        "--power-replicates",
        type=_positive_int,
        default=200,
        help="trials per size of the power curve (200)",
    )
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser(
        "scenarios",
        help="list the bundled scenarios, or show one",
        description="List the bundled scenarios (one line each), or print one.",
    )
    p.add_argument("action", nargs="?", choices=("list", "show"), default="list")
    p.add_argument("name", nargs="?", help="scenario to show")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p.set_defaults(func=_cmd_scenarios)

    p = sub.add_parser(
        "new-scenario",
        help="write a commented scenario template",
        description="Write a complete, commented scenario file to PATH.",
    )
    p.add_argument("path", help="file to create (it must not exist)")
    p.set_defaults(func=_cmd_new_scenario)

    p = sub.add_parser(
        "validate",
        help="rerun the calibration and analytic cross-checks (qualification report)",
        description="Rerun the BLISS-52 calibration figures, the analytic power, type I "
        "error and coverage checks and the group-sequential reference boundaries, and "
        "print each with its reference, the simulated value with Monte Carlo SE, the "
        "tolerance and pass/fail. Exit code 1 if any check fails.",
    )
    p.add_argument(
        "--replicates",
        type=_positive_int,
        default=200,
        help="BLISS-52 and BLISS-LN trials to simulate, each (200)",
    )
    p.add_argument("--seed", type=_seed, default=2011, help="seed of the run (2011)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p.set_defaults(func=_cmd_validate)
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
        text = str(exc)
        origin = getattr(args, "loaded_from", None)
        if isinstance(exc, ScenarioError) and exc.source is None and origin and origin not in text:
            # Found while running a scenario that loaded fine: say which file.
            text = f"{origin}: {text}"
        print(f"lupsim: error: {text}", file=sys.stderr)
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
