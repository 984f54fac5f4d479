"""Loading scenarios: bundled names, paths, and every way a file can be wrong.

Whatever a user writes, the loader raises nothing but ScenarioError.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lupsim.cohort.population import LIBRARY_PHRASES, Bound
from lupsim.errors import ScenarioError
from lupsim.scenario import Scenario, bundled_scenarios, load_scenario, parse_scenario

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- bundled and by path -------------------------------------------------------------


def test_bliss52_is_bundled() -> None:
    assert "bliss52" in bundled_scenarios()
    on_disk = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
    assert bundled_scenarios() == on_disk


@pytest.mark.parametrize("name", bundled_scenarios())
def test_every_bundled_scenario_loads(name: str) -> None:
    scenario = load_scenario(name)
    assert isinstance(scenario, Scenario)
    assert scenario.name == name
    # the bundled copy is the file in scenarios/
    assert scenario == load_scenario(SCENARIO_DIR / f"{name}.toml")


def test_bliss52_contents() -> None:
    s = load_scenario("bliss52")
    assert s.population.female_pct == 94.9
    assert s.population.domain_targets()["renal"] == Bound(relation="<", value=16)
    assert s.eligibility is not None
    assert "selena_sledai >= 6" in s.eligibility.include
    assert "severe_active_cns" in s.eligibility.exclude


def test_load_by_path(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mine.toml",
        'name = "mine"\n[population]\nfemale_pct = 90\n'
        '[eligibility]\ninclude = ["selena_sledai >= 4"]\n',
    )
    for given_path in (path, str(path)):
        s = load_scenario(given_path)
        assert s.name == "mine"
        assert s.population.female_pct == 90
        assert s.eligibility is not None
        assert s.eligibility.include == ("selena_sledai >= 4",)


def test_load_by_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "rel.toml", 'name = "rel"\n')
    monkeypatch.chdir(tmp_path)
    assert load_scenario("rel.toml").name == "rel"


def test_a_scenario_knows_its_file_but_its_content_does_not(tmp_path: Path) -> None:
    path = write(tmp_path / "mine.toml", 'name = "mine"\n[population]\nfemale_pct = 90\n')
    s = load_scenario(path)
    assert s.origin == str(path)
    assert s.where() == f"'mine' ({path})"
    assert load_scenario("bliss52").origin == "bliss52.toml"
    built = parse_scenario({"name": "mine", "population": {"female_pct": 90}})
    assert built.origin is None
    assert built.where() == "'mine'"
    # The file is no part of the content: dumps (hashes, cache keys) and equality.
    assert str(path) not in s.model_dump_json()
    assert s.model_dump_json() == built.model_dump_json()
    assert s == built
    assert hash(s) == hash(built)
    assert s.model_copy(update={"title": "t"}).origin == str(path)


# --- names and files that do not exist ----------------------------------------------------


def test_unknown_name_suggests_and_lists_bundled() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("blis52")
    msg = str(info.value)
    assert msg.startswith("unknown scenario 'blis52'")
    assert "(did you mean 'bliss52'?)" in msg
    assert "bundled scenarios are " + ", ".join(bundled_scenarios()) in msg


def test_unknown_name_without_close_match_still_lists() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("zzzz")
    msg = str(info.value)
    assert "did you mean" not in msg
    for name in bundled_scenarios():
        assert name in msg


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(missing)
    msg = str(info.value)
    assert f"scenario file {str(missing)!r} does not exist" in msg
    assert "bliss52" in msg


def test_directory_is_not_a_scenario(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="is a directory; give the path of a .toml file"):
        load_scenario(tmp_path)


# --- files that are wrong -------------------------------------------------------------------


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.toml", 'name = "x"\n\nfemale_pct = \n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: not valid TOML")
    assert "line 3" in msg
    assert info.value.source == str(path)


def test_unknown_key_and_out_of_range_listed_together(tmp_path: Path) -> None:
    path = write(
        tmp_path / "two.toml",
        'name = "two"\n[population]\nfemale_pct = 120\nsledai_meen = 9\n',
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert len(err.problems) == 2, err.problems
    assert "population.female_pct: must be <= 100, got 120" in err.problems
    assert any(
        p.startswith("population.sledai_meen: unknown key 'sledai_meen'") for p in err.problems
    )
    msg = str(err)
    assert msg.startswith(f"{path}: 2 problems:")
    for p in err.problems:
        assert p in msg


def test_unknown_top_level_section(tmp_path: Path) -> None:
    path = write(tmp_path / "sec.toml", 'name = "x"\n[populaton]\nfemale_pct = 90\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert any(p.startswith("populaton: unknown key 'populaton'") for p in info.value.problems)


def test_bad_eligibility_rule_in_a_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "rule.toml",
        'name = "x"\n[eligibility]\ninclude = ["acr1997", "sledai >= 6"]\n',
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.startswith("eligibility.include[1]: rule 'sledai >= 6': unknown variable")
    assert "did you mean" in problem


def test_missing_name_is_required() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario({"population": {"female_pct": 90}}, source="x.toml")
    expected = 'name: is required; give text in quotes, e.g. name = "my-trial"'
    assert info.value.problems == (expected,)
    assert str(info.value) == f"x.toml: {expected}"


def test_non_utf8_file_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'name = "x"\n# caf\xe9\n')
    with pytest.raises(ScenarioError, match=r"latin1\.toml"):
        load_scenario(path)


def test_deeply_nested_file_is_a_scenario_error(tmp_path: Path) -> None:
    path = write(tmp_path / "deep.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ScenarioError):
        load_scenario(path)


# --- garbage in: only ScenarioError out ----------------------------------------------------


def outcome(load: Callable[[], Scenario], given: object = "") -> Scenario | ScenarioError:
    """The scenario, or the ScenarioError; any other exception fails the test.

    A ScenarioError must be in lupsim's words: never the validation library's
    (unless the phrase is in what was ``given``, which messages quote).
    """
    try:
        return load()
    except ScenarioError as exc:
        for phrase in LIBRARY_PHRASES:
            assert phrase not in str(exc) or phrase in str(given), (phrase, str(exc))
        return exc


_KEYS = [
    "name",
    "title",
    "description",
    "source",
    "population",
    "eligibility",
    "include",
    "exclude",
    "female_pct",
    "age_mean",
    "age_min",
    "age_max",
    "race_pct",
    "region_pct",
    "domain_pct",
    "white",
    "renal",
    "latin_america",
    "bilag_any_a_pct",
    "bilag_a_or_2b_pct",
    "prednisone_pct",
    "prednisone_gt_7_5_pct",
]
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["<16", "<x", ">=5", "selena_sledai >= 6", "race >= 1", "not", "", "nan"]),
    st.dates(),
)
_keys = st.one_of(st.sampled_from(_KEYS), st.text(max_size=10), st.integers(-3, 3))
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(_keys, inner, max_size=5),
    ),
    max_leaves=20,
)
_documents = st.dictionaries(_keys, _values, max_size=6)


@settings(max_examples=200, deadline=None)
@given(data=_documents)
def test_parse_scenario_only_raises_scenario_error(data: dict[Any, Any]) -> None:
    result = outcome(lambda: parse_scenario(data, source="fuzz.toml"), data)
    if isinstance(result, ScenarioError):
        assert result.problems
        assert all(isinstance(p, str) and p for p in result.problems)
        assert str(result).startswith("fuzz.toml: ")
    else:
        assert isinstance(result, Scenario)


@settings(max_examples=200, deadline=None)
@given(
    population=st.dictionaries(st.sampled_from(_KEYS), _values, max_size=6),
    rules=st.lists(st.one_of(st.text(max_size=30), _scalars), max_size=3),
)
def test_parse_scenario_near_valid_only_raises_scenario_error(
    population: dict[str, Any], rules: list[Any]
) -> None:
    data = {"name": "fuzz", "population": population, "eligibility": {"include": rules}}
    result = outcome(lambda: parse_scenario(data), data)
    assert isinstance(result, Scenario) or result.problems


def _schema_keys() -> list[str]:
    """Every key of every table of a scenario file."""
    from lupsim.docgen import _models

    return sorted({k for m in _models(Scenario) for k in m.model_fields})


_ALL_KEYS = _schema_keys()
_tables = st.dictionaries(st.sampled_from(_ALL_KEYS), _values, max_size=6)
_arms = st.lists(
    st.one_of(
        st.dictionaries(st.sampled_from(["name", "drug", "dose_mg_per_kg", *_ALL_KEYS]), _values),
        st.fixed_dictionaries({"name": st.sampled_from(["a", "b", ""])}),
        _scalars,
    ),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(
    design=_tables,
    arms=_arms,
    nested=st.dictionaries(
        st.sampled_from(
            ["enrolment", "steroids", "rescue", "randomisation", "discontinuation", "background"]
        ),
        st.one_of(_tables, _scalars),
        max_size=3,
    ),
    analysis=st.one_of(_tables, _scalars),
    other=st.dictionaries(st.sampled_from(["disease", "pkpd", "eligibility"]), _tables),
)
def test_every_table_of_the_schema_only_raises_scenario_error_in_lupsim_words(
    design: dict[str, Any],
    arms: list[Any],
    nested: dict[str, Any],
    analysis: Any,
    other: dict[str, Any],
) -> None:
    data = {
        "name": "fuzz",
        "design": {**design, **nested, "arms": arms},
        "analysis": analysis,
        **other,
    }
    result = outcome(lambda: parse_scenario(data, source="fuzz.toml"), data)
    assert isinstance(result, Scenario) or result.problems


_toml_fragments = st.sampled_from(
    [
        "name = ",
        '"bliss"',
        "[population]",
        "[eligibility]",
        "[population.race_pct]",
        "female_pct = ",
        "120",
        "-1",
        "nan",
        "inf",
        "1979-02-30",
        "include = [",
        "]",
        "'<16'",
        '"""',
        "\n",
        "=",
        "#",
        "{",
        "}",
        ",",
        "true",
    ]
)
_toml_texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(_toml_fragments, st.text(max_size=5)), max_size=30).map("".join),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=_toml_texts)
def test_load_scenario_of_random_text_only_raises_scenario_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "garbage.toml"
    path.write_text(text, encoding="utf-8")
    try:
        valid_toml = isinstance(tomllib.loads(text), dict)
    except tomllib.TOMLDecodeError:
        valid_toml = False
    result = outcome(lambda: load_scenario(path), text)
    if isinstance(result, ScenarioError):
        assert str(result).startswith(f"{path}: ")
        if not valid_toml:
            assert "not valid TOML" in str(result)
    else:
        assert isinstance(result, Scenario)
