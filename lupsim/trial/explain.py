"""The story of one patient: ``lupsim simulate SCENARIO --explain SUBJECT``.

Visit by visit: the active SLEDAI descriptors (new ones marked), SELENA-SLEDAI,
BILAG grades that are A or B, PGA, prednisone dose, serology, and the events
(flares, rescue, treatment failure, leaving the study); then why the patient is
or is not an SRI-4 responder at the primary visit, component by component. In
a trial with a nephritis induction regimen, each visit also shows proteinuria
(uPCR) and eGFR, and the renal responses (PERR, CRR) are explained too.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> from lupsim.trial import simulate_trial
>>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
>>> print(explain_subject(ds, "LUP-00001").splitlines()[0])  # doctest: +ELLIPSIS
LUP-00001, ... arm, ...
"""

from __future__ import annotations

from lupsim.activity.bilag import BILAG_DOMAINS, compare_bilag
from lupsim.activity.pga import PGA_WORSENING
from lupsim.activity.sledai import DESCRIPTORS
from lupsim.analysis.endpoints import CRR, PERR, RenalCriteria
from lupsim.errors import LupsimError
from lupsim.trial.dataset import TrialDataset

__all__ = ["explain_subject"]

_LETTERS = "ABCDE"


def _index(ds: TrialDataset, subject: str) -> int:
    ids = list(ds.subjects["USUBJID"])
    if subject in ids:
        return ids.index(subject)
    if subject.isdigit() and 1 <= int(subject) <= len(ids):
        return int(subject) - 1
    raise LupsimError(
        f"--explain: no subject {subject!r}; give a USUBJID such as {ids[0]!r} "
        f"or a number 1-{len(ids)}"
    )


def explain_subject(ds: TrialDataset, subject: str) -> str:
    """A readable account of one subject's course (see the module docstring)."""
    i = _index(ds, subject)
    s = ds.subjects.iloc[i]
    a = ds.arrays
    if ds.binomial:
        responded = bool(a.selena[i, -1] < a.selena[i, 0])
        return (
            f"{s['USUBJID']}, {s['arm']} arm, randomised on day {s['rand_calendar_day']:.0f} "
            "of the trial\n"
            "A binomial design has no disease model: the response at week "
            f"{ds.primary_week:g} is one draw with the arm's response rate.\n"
            f"Response at week {ds.primary_week:g}: {'yes' if responded else 'no'}"
        )
    lines = [
        f"{s['USUBJID']}, {s['arm']} arm, {s['SEX']} aged {s['AGE']:.0f}, {s['RACE']}, "
        f"{s['REGION']}; randomised on day {s['rand_calendar_day']:.0f} of the trial",
        f"Baseline: SELENA-SLEDAI {int(a.selena[i, 0])}, PGA {a.pga[i, 0]:.2f}, prednisone "
        f"{a.prednisone_mg[i, 0]:g} mg/day, anti-dsDNA {a.anti_dsdna_iu[i, 0]:g} IU/mL, "
        f"C3 {a.c3[i, 0]:g}, C4 {a.c4[i, 0]:g} mg/dL"
        + (", serologically active" if s["SEROACT"] else ""),
    ]
    renal = ds.nephritis
    if renal:
        lines.append(
            f"Nephritis: induction {s['INDUCT'].replace('_', ' ')}, proteinuria "
            f"{a.proteinuria_g[i, 0]:g} g/24 h (uPCR g/g), eGFR {a.egfr[i, 0]:g} mL/min/1.73 m2"
        )
    lines += [
        "",
        f"{'week':>4s} {'day':>4s} {'SS':>3s} {'PGA':>4s} {'pred':>5s}  "
        + (f"{'uPCR':>5s} {'eGFR':>5s}  " if renal else "")
        + "active descriptors (* new) | BILAG A/B | events",
    ]
    for j, week in enumerate(ds.visit_weeks):
        if not a.observed[i, j]:
            continue
        items = [
            d.code + ("*" if a.new[i, j, k] and j > 0 else "")
            for k, d in enumerate(DESCRIPTORS)
            if a.present[i, j, k]
        ]
        bilag = [
            f"{dom}={_LETTERS[g]}"
            for dom, g in zip(BILAG_DOMAINS, a.bilag[i, j], strict=True)
            if g <= 1
        ]
        events = []
        if a.flare_severe_modified[i, j]:
            events.append("severe flare")
        elif a.flare_mild[i, j]:
            events.append("mild/moderate flare")
        if a.rescue[i, j]:
            events.append("rescue")
        if a.treatment_failure[i, j] and (j == 0 or not a.treatment_failure[i, j - 1]):
            events.append("treatment failure")
        kidney = f"{a.proteinuria_g[i, j]:5.2f} {a.egfr[i, j]:5.1f}  " if renal else ""
        lines.append(
            f"{week:4g} {a.day[i, j]:4.0f} {int(a.selena[i, j]):3d} {a.pga[i, j]:4.2f} "
            f"{a.prednisone_mg[i, j]:5.1f}  {kidney}{', '.join(items) or '-'} | "
            f"{', '.join(bilag) or '-'} | {', '.join(events) or ''}"
        )
    if s["DCSREAS"]:
        lines.append(f"Left the study on study day {s['DCSDY']:.0f}: {s['DCSREAS']}")
    lines.append("")
    lines.append(_sri_reasons(ds, i))
    if renal:
        for criteria in (PERR, CRR):
            lines.append(_renal_reasons(ds, i, criteria))
    return "\n".join(lines)


def _renal_reasons(ds: TrialDataset, i: int, c: RenalCriteria) -> str:
    a = ds.arrays
    week = ds.primary_week
    j = ds.visit_column(week)
    head = f"{c.name} at week {week:g}: "
    if not a.observed[i, j]:
        return head + "non-responder: left the study before the visit (counted as failure)"
    if a.treatment_failure[i, j]:
        return head + "non-responder: treatment failure (rescue or prohibited therapy)"
    prot, egfr, base = a.proteinuria_g[i, j], a.egfr[i, j], a.egfr[i, 0]
    sign = "<=" if c.upcr_inclusive else "<"
    prot_ok = prot <= c.upcr_max + 1e-9 if c.upcr_inclusive else prot < c.upcr_max - 1e-9
    floor = (1.0 - c.egfr_max_drop) * base
    egfr_ok = egfr >= floor - 1e-9 or egfr >= c.egfr_floor - 1e-9
    reasons = [
        (bool(prot_ok), f"uPCR {prot:g} g/g (needs {sign} {c.upcr_max:g})"),
        (
            bool(egfr_ok),
            f"eGFR {egfr:g} (needs >= {floor:.1f}, {100 * c.egfr_max_drop:g}% below baseline "
            f"{base:g}, or >= {c.egfr_floor:g})",
        ),
    ]
    if c.steroid_max_mg is not None:
        reasons.append(_steroid_reason(ds, i, j, c.steroid_max_mg, c.steroid_from_week))
    out = [head + ("responder" if all(r for r, _ in reasons) else "non-responder")]
    out += [f"  [{'x' if r else ' '}] {text}" for r, text in reasons]
    return "\n".join(out)


def _steroid_reason(
    ds: TrialDataset, i: int, j: int, most: float, from_week: float
) -> tuple[bool, str]:
    """The steroid criterion of a renal response: prednisone at every attended
    visit from ``from_week`` up to visit column ``j``."""
    a = ds.arrays
    cols = [
        k
        for k, w in enumerate(ds.visit_weeks[: j + 1])
        if w >= from_week - 1e-9 and a.observed[i, k]
    ]
    need = f"needs <= {most:g} mg/day at every visit from week {from_week:g}"
    if not cols:
        return True, f"no visit from week {from_week:g} yet ({need})"
    doses = [float(a.prednisone_mg[i, k]) for k in cols]
    top = max(doses)
    ok = top <= most + 1e-9
    above = [ds.visit_weeks[k] for k, d in zip(cols, doses, strict=True) if d > most + 1e-9]
    where = ""
    if len(above) == 1:
        where = f"; above it at week {above[0]:g}"
    elif above:
        where = f"; above it at {len(above)} visits, weeks {above[0]:g}-{above[-1]:g}"
    return ok, f"highest prednisone from week {from_week:g}: {top:g} mg/day ({need}){where}"


def _sri_reasons(ds: TrialDataset, i: int) -> str:
    a = ds.arrays
    week = ds.primary_week
    j = ds.visit_column(week)
    head = f"SRI-4 at week {week:g}: "
    if not a.observed[i, j]:
        return head + "non-responder: left the study before the visit (counted as failure)"
    if a.treatment_failure[i, j]:
        return head + "non-responder: treatment failure (protocol-prohibited medication)"
    drop = int(a.selena[i, 0]) - int(a.selena[i, j])
    comp = compare_bilag(a.bilag[i, 0], a.bilag[i, j])
    dpga = float(a.pga[i, j] - a.pga[i, 0])
    reasons = [
        (drop >= 4, f"SELENA-SLEDAI fell by {drop} (needs >= 4)"),
        (
            bool(comp.no_worsening),
            f"{int(comp.new_a)} new BILAG A and {int(comp.new_b)} new B "
            "(allowed: no new A, at most one new B)",
        ),
        (dpga < PGA_WORSENING - 1e-9, f"PGA changed by {dpga:+.2f} (worsening is >= +0.3)"),
    ]
    ok = all(r for r, _ in reasons)
    out = [head + ("responder" if ok else "non-responder")]
    out += [f"  [{'x' if r else ' '}] {text}" for r, text in reasons]
    return "\n".join(out)
