"""A bad scenario file, through the command line: one clear message naming the
file, the field, the value given and how to write it; exit code 2; never the
validation library's own wording or a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from lupsim.cli import main
from lupsim.cohort.population import LIBRARY_PHRASES

DESIGN = """
[design]
n_randomised = 20
[[design.arms]]
name = "placebo"
[[design.arms]]
name = "active"
drug = "anti_baff"
dose_mg_per_kg = 10
"""


def _simulate(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    try:
        code = main(["simulate", str(path)])
    except SystemExit as exc:  # pragma: no cover - argparse only
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    err = captured.err
    assert code == 2, err
    assert captured.out == ""
    assert err.startswith(f"lupsim: error: {path}: "), err
    assert "Traceback" not in err
    for phrase in LIBRARY_PHRASES:
        assert phrase not in err, (phrase, err)
    return err


CASES = [
    (  # a number where two are needed
        'name = "t"\n' + DESIGN + "[design.enrolment]\nactivation_weeks = 5\n",
        [
            "design.enrolment.activation_weeks: must be two numbers, got 5",
            "e.g. activation_weeks = [0, 26]",
        ],
    ),
    (  # three numbers where two are needed
        'name = "t"\n' + DESIGN + "[design.enrolment]\nactivation_weeks = [0, 10, 26]\n",
        [
            "design.enrolment.activation_weeks: must be two numbers, got [0, 10, 26] (3 items)",
            "e.g. activation_weeks = [0, 26]",
        ],
    ),
    (  # one number where two are needed
        'name = "t"\n' + DESIGN + "[design.steroids]\nforced_taper_weeks = [24]\n",
        ["design.steroids.forced_taper_weeks: must be two numbers, got [24] (1 item)"],
    ),
    (  # text where a table is needed
        'name = "t"\n' + DESIGN + '[analysis]\nprimary = "sri4"\n',
        [
            "analysis.primary: must be a table, got 'sri4'",
            "write [analysis.primary] with its keys on the lines below it",
        ],
    ),
    (  # a list of texts where a list of tables is needed
        'name = "t"\n' + DESIGN + '[analysis]\nsecondary = ["sri4"]\n',
        [
            "analysis.secondary[0]: must be a table, got 'sri4'",
            "write each entry as [[analysis.secondary]]",
        ],
    ),
    (  # one arm
        'name = "t"\n[design]\n[[design.arms]]\nname = "placebo"\n',
        [
            "design.arms: needs at least 2 entries, got 1",
            "write each entry as [[design.arms]]",
        ],
    ),
    (  # a rule where a list of rules is needed
        'name = "t"\n[eligibility]\ninclude = "selena_sledai >= 6"\n',
        [
            "eligibility.include: must be a list of rules in quotes, got 'selena_sledai >= 6'",
            'e.g. include = ["selena_sledai >= 6"]',
        ],
    ),
    (  # no name
        'title = "t"\n' + DESIGN,
        ['name: is required; give text in quotes, e.g. name = "my-trial"'],
    ),
    (  # a boolean where a percentage or bound is needed
        'name = "t"\n[population.domain_pct]\nrenal = true\n',
        [
            "population.domain_pct.renal: must be a percentage (0-100) or a bound in quotes "
            'such as "<16", got true'
        ],
    ),
    (  # a percentage above 100 in a table of percentages or bounds
        'name = "t"\n[population.domain_pct]\nrenal = 160\n',
        ["population.domain_pct.renal: must be <= 100, got 160"],
    ),
    (  # a date where text is needed
        "name = 1979-05-27\n",
        ["name: must be text, got 1979-05-27 (a date or time)"],
    ),
    (  # an empty arm name
        'name = "t"\n[design]\n[[design.arms]]\nname = ""\n[[design.arms]]\nname = "b"\n',
        ["design.arms[0].name: must not be empty, got ''"],
    ),
    (  # a misspelt choice
        'name = "t"\n' + DESIGN + '[analysis]\nmultiplicity = "holms"\n',
        ["analysis.multiplicity: must be one of 'none', 'bonferroni', 'holm'", "got 'holms'"],
    ),
    (  # a quoted boolean
        'name = "t"\n' + DESIGN + '[design.rescue]\nsevere_flare_is_failure = "yes"\n',
        ["design.rescue.severe_flare_is_failure: must be true or false, got 'yes'"],
    ),
    (  # a table where a number is needed
        'name = "t"\n[population]\nfemale_pct = { a = 1 }\n',
        ["population.female_pct: must be a number, got {a = 1}"],
    ),
    (  # a bound written as a table, without its value
        'name = "t"\n[population.domain_pct]\nrenal = { relation = "<" }\n',
        [
            "population.domain_pct.renal: must be a percentage (0-100) or a bound in quotes "
            "such as \"<16\", got {relation = '<'}"
        ],
    ),
    (  # a ratio written as text
        'name = "t"\n' + DESIGN.replace("n_randomised = 20", 'allocation = "1:1"'),
        [
            "design.allocation: must be a list of whole numbers, got '1:1'; "
            "write e.g. allocation = ["
        ],
    ),
    (  # an arm written as one table, not a list of tables
        'name = "t"\n[design]\n[design.arms]\nname = "a"\n',
        [
            "design.arms: must be a list of tables, got {name = 'a'}; "
            "write each entry as [[design.arms]]"
        ],
    ),
    (  # a milestone without its patient count
        'name = "t"\n' + DESIGN + '[[design.milestones]]\nname = "IA"\nweek = 24\n',
        [
            "design.milestones[0].n_patients: is required; "
            "give a whole number, e.g. n_patients = ..."
        ],
    ),
    (  # a misspelt endpoint
        'name = "t"\n' + DESIGN + '[analysis.primary]\nendpoint = "sri44"\n',
        ["analysis.primary.endpoint: unknown endpoint 'sri44' (did you mean 'sri4'?)"],
    ),
    (  # a table of percentages given as a list
        'name = "t"\n[population]\nrace_pct = [50, 50]\n',
        ["population.race_pct: must be a table of name = value, got [50, 50]"],
    ),
]


@pytest.mark.parametrize(("text", "messages"), CASES)
def test_a_bad_field_is_named_with_the_value_and_how_to_write_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, messages: list[str]
) -> None:
    err = _simulate(tmp_path, capsys, text)
    for message in messages:
        assert message in err, err
    assert err.count("\n") == 1, err  # one problem, one line


def test_age_min_above_age_max_is_reported_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _simulate(tmp_path, capsys, 'name = "t"\n[population]\nage_min = 80\nage_max = 70\n')
    assert err.count("must be below") == 1, err
    assert "population.age_min (80) must be below age_max (70)" in err


def test_a_design_cross_check_is_reported_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = 'name = "t"\n' + DESIGN.replace("n_randomised = 20", "primary_week = 50")
    err = _simulate(tmp_path, capsys, text)
    assert err.count("must be a visit") == 1, err
    assert "design.primary_week (50) must be a visit" in err


def test_several_problems_are_listed_one_per_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        'name = "t"\n[population]\nfemale_pct = 120\nage_min = 80\nage_max = 70\n'
        "[eligibility]\ninclude = 5\n"
    )
    err = _simulate(tmp_path, capsys, text)
    assert "3 problems:" in err
    assert "  - population.female_pct: must be <= 100, got 120" in err
    assert "  - eligibility.include: must be a list of rules in quotes, got 5" in err


def test_a_scenario_without_a_design_names_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nodesign.toml"
    path.write_text('name = "nodesign"\n', encoding="utf-8")
    assert main(["simulate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"scenario 'nodesign' ({path}) has no [design] table" in err
    assert "[[design.arms]]" in err


def test_an_error_found_after_loading_names_the_file_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nodesign.toml"
    path.write_text('name = "nodesign"\n', encoding="utf-8")
    assert main(["power", str(path), "--replicates", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lupsim: error: {path}: scenario 'nodesign' has no [design] table")
    assert err.count(str(path)) == 1


def test_an_engine_error_that_names_the_file_is_not_prefixed_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "slow.toml"
    slow = DESIGN.replace(
        "n_randomised = 20",
        "n_randomised = 400\n[design.enrolment]\nsites = 1\nscreening_rate_per_site_week = 0.01",
    )
    path.write_text('name = "slow"\n' + slow, encoding="utf-8")
    assert main(["simulate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "design.enrolment: after 15 years" in err
    assert err.count(str(path)) == 1, err


# -- an analysis plan the design cannot carry out, refused at load ------------

BINOMIAL = """
[design]
outcome = "binomial"
n_randomised = 40
[[design.arms]]
name = "control"
response_rate = 0.4
[[design.arms]]
name = "active"
response_rate = 0.6
"""
MILESTONE = '[[design.milestones]]\nname = "IA1"\nweek = 52\nn_patients = 10\n'
INTERIM = '[analysis.interim]\nspending = "obf"\n'
NO_LOOKS = (
    "binomial designs have no interim looks (each response is drawn at the primary week, "
    "with no disease model and no calendar of patients reaching visits)"
)


def _renal(path: str, endpoint: str) -> str:
    return (
        f"{path}.endpoint: {endpoint!r} is a renal response, which needs a lupus nephritis "
        "induction regimen and this design gives none; add [design.background] induction = "
        "{ mycophenolate = 0.74, euro_lupus_cyclophosphamide = 0.26 } (as in "
        "scenarios/nephritis-addon.toml) or use an SLE endpoint such as 'sri4'"
    )


def _holm(value: str) -> str:
    return (
        "analysis.multiplicity: group-sequential looks are tested per comparison with alpha "
        f"split by Bonferroni; multiplicity = {value!r} is not supported with interim looks "
        "([analysis.interim]); use 'bonferroni' or 'none'"
    )


CROSS_CASES = [
    pytest.param(
        'name = "t"\n' + BINOMIAL + MILESTONE,
        [f"design.milestones: {NO_LOOKS}, got ['IA1']; remove [[design.milestones]]"],
        id="binomial-milestones",
    ),
    pytest.param(
        'name = "t"\n' + BINOMIAL + INTERIM,
        [
            f"analysis.interim: {NO_LOOKS}; remove [analysis.interim] (interim looks need "
            "the disease model, design.outcome = 'disease_model')"
        ],
        id="binomial-interim",
    ),
    pytest.param(
        'name = "t"\n' + DESIGN + '[analysis.primary]\nendpoint = "perr"\n',
        [_renal("analysis.primary", "perr")],
        id="perr-without-induction",
    ),
    pytest.param(
        'name = "t"\n' + DESIGN + '[[analysis.secondary]]\nendpoint = "crr"\n',
        [_renal("analysis.secondary[0]", "crr")],
        id="crr-without-induction",
    ),
    *(
        pytest.param(
            'name = "t"\n' + DESIGN + MILESTONE + f'[analysis]\nmultiplicity = "{m}"\n' + INTERIM,
            [_holm(m)],
            id=f"interim-{m}",
        )
        for m in ("holm", "hochberg", "fixed_sequence")
    ),
    pytest.param(
        'name = "t"\n' + DESIGN + "[analysis.primary]\nweek = 50\n",
        [
            "analysis.primary.week: 50 is not a visit of the design; visits are every 4 weeks "
            "to week 52 (4, 8, 12, ..., 48, 52): use 48 or 52, or remove week to read the "
            "primary week (52)"
        ],
        id="week-between-visits",
    ),
    pytest.param(
        'name = "t"\n' + DESIGN + '[[analysis.secondary]]\nendpoint = "sri4"\nweek = 60\n',
        [
            "analysis.secondary[0].week: 60 is after the last visit of the design (week 52); "
            "visits are every 4 weeks to week 52 (4, 8, 12, ..., 48, 52): use one of them, or "
            "remove week to read the primary week (52)"
        ],
        id="week-after-the-last-visit",
    ),
    pytest.param(
        'name = "t"\n' + BINOMIAL + "[analysis.primary]\nweek = 24\n",
        [
            "analysis.primary.week: 24 is not a visit of the design: a binomial design has one "
            "visit after baseline, the primary week (52); write week = 52 or remove week"
        ],
        id="binomial-week",
    ),
    pytest.param(
        'name = "t"\n' + DESIGN + MILESTONE.replace("n_patients = 10", "n_patients = 30"),
        ["design.milestones[0].n_patients: 30 is more than n_randomised (20)"],
        id="milestone-more-than-randomised",
    ),
    pytest.param(
        'name = "t"\n'
        + DESIGN
        + "[design.background]\ninduction = { mycophenolate = 1.2, euro_lupus_cyclophosphamide"
        " = 0.26 }\n",
        [
            "design.background.induction.mycophenolate: must be a share between 0 and 1, got "
            "1.2; shares are fractions from 0 to 1 that sum to 1, e.g. { mycophenolate = 0.74, "
            "euro_lupus_cyclophosphamide = 0.26 }"
        ],
        id="induction-share-above-1",
    ),
]


@pytest.mark.parametrize(("text", "messages"), CROSS_CASES)
def test_a_plan_the_design_cannot_carry_out_is_refused_at_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, messages: list[str]
) -> None:
    err = _simulate(tmp_path, capsys, text)
    for message in messages:
        assert message in err, err
    assert err.count("\n") == 1, err  # one problem, one line


def test_induction_percentages_are_rewritten_as_shares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        'name = "t"\n' + DESIGN + "[design.background]\n"
        "induction = { mycophenolate = 74, euro_lupus_cyclophosphamide = 26 }\n"
    )
    err = _simulate(tmp_path, capsys, text)
    assert "2 problems:" in err
    assert (
        "  - design.background.induction.mycophenolate: must be a share between 0 and 1, "
        "got 74; a share, not a percentage: write 74 as 0.74\n"
    ) in err
    assert "write 26 as 0.26" in err
    assert "sum to 1, e.g." not in err


def test_cross_table_problems_are_listed_with_the_field_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        'name = "t"\n[population]\nfemale_pct = 120\n'
        + BINOMIAL
        + MILESTONE
        + '[analysis]\nmultiplicity = "holm"\n[analysis.primary]\nendpoint = "perr"\nweek = 24\n'
        + INTERIM
    )
    err = _simulate(tmp_path, capsys, text)
    assert "6 problems:" in err, err
    for line in (
        "population.female_pct: must be <= 100, got 120",
        f"design.milestones: {NO_LOOKS}",
        f"analysis.interim: {NO_LOOKS}",
        # A binomial design analyses only its drawn response (no renal check).
        "analysis.primary.endpoint: 'perr' needs the disease model; a binomial design draws",
        _holm("holm"),
        "analysis.primary.week: 24 is not a visit of the design: a binomial design",
    ):
        assert f"  - {line}" in err, (line, err)
