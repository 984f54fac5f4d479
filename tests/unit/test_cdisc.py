"""CDISC ADaM-style exports: structure, agreement with the endpoints, metadata, files.

The expected values come from the TrialDataset arrays and from
lupsim.analysis.endpoints directly, never from the export under test.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray

from lupsim.activity.bilag import NUMERIC
from lupsim.analysis.endpoints import bicla, flares, lldas, sri
from lupsim.errors import LupsimError
from lupsim.trial import TrialDataset, cdisc, simulate_trial
from lupsim.trial.cdisc import adeff, adsl, adtte, variables_table, write_cdisc

MEASURED = ("SELENA", "SLEDAI2K", "BILAGNUM", "PGA", "PRED", "DSDNA", "C3", "C4", "PROT", "EGFR")
RESPONDERS = ("SRI4", "SRI5", "SRI6", "BICLA", "LLDAS")


@pytest.fixture(scope="module")
def ds(bliss52) -> TrialDataset:  # type: ignore[no-untyped-def]
    return simulate_trial(bliss52, seed=1)


@pytest.fixture(scope="module")
def sl(ds: TrialDataset) -> pd.DataFrame:
    return adsl(ds)


@pytest.fixture(scope="module")
def eff(ds: TrialDataset) -> pd.DataFrame:
    return adeff(ds)


@pytest.fixture(scope="module")
def tte(ds: TrialDataset) -> pd.DataFrame:
    return adtte(ds)


def _grid(ds: TrialDataset, rows: pd.DataFrame, column: str) -> np.ndarray:
    """A column of ADEFF records as a (subjects, visits) array, NaN where no record."""
    out = np.full((ds.n, len(ds.visit_weeks)), np.nan)
    i = pd.Index(ds.subjects["USUBJID"]).get_indexer(pd.Index(rows["USUBJID"]))
    j = pd.Index(ds.visit_weeks).get_indexer(pd.Index(rows["AVISITN"].astype(float)))
    assert (i >= 0).all()
    assert (j >= 0).all()
    out[i, j] = rows[column].to_numpy(dtype=float)
    return out


# -- ADSL ----------------------------------------------------------------------
def test_adsl_has_one_row_per_subject_and_the_adam_columns(
    ds: TrialDataset, sl: pd.DataFrame
) -> None:
    expected = [
        "STUDYID", "USUBJID", "SUBJID", "SITEID", "ARM", "ARMCD", "TRT01P", "TRT01A",
        "TRT01PN", "RANDFL", "ITTFL", "SAFFL", "COMPLFL", "DCSREAS", "DCSDY", "AGE",
        "AGEU", "SEX", "RACE", "REGION1", "WEIGHTBL", "STRAT1FL", "STRAT2FL", "STRAT3FL",
        "SELENABL", "SLE2KBL", "BILAGBL", "PGABL", "PREDBL", "DSDNABL", "C3BL", "C4BL",
        "PROTBL", "EGFRBL", "INDUCT", "TRTFFL",
    ]  # fmt: skip
    assert not set(expected) - set(sl.columns)
    assert len(sl) == ds.n
    assert sl["USUBJID"].is_unique
    assert sl["USUBJID"].tolist() == ds.subjects["USUBJID"].tolist()
    assert set(sl["STUDYID"]) == {"bliss52"}
    assert set(sl["RANDFL"]) == {"Y"}
    assert set(sl["AGEU"]) == {"YEARS"}
    assert all(len(c) <= 8 for c in sl.columns)  # SAS transport v5 names


def test_adsl_values_follow_the_subject_arrays(ds: TrialDataset, sl: pd.DataFrame) -> None:
    s, a = ds.subject_arrays, ds.arrays
    np.testing.assert_array_equal(sl["TRT01PN"], s["arm_index"] + 1)
    np.testing.assert_array_equal(sl["TRT01P"], np.asarray(ds.arms)[s["arm_index"]])
    assert (sl["ARMCD"].str.fullmatch(r"[A-Z0-9_]{1,20}")).all()
    assert sl.groupby("ARMCD")["TRT01P"].nunique().eq(1).all()
    np.testing.assert_array_equal(sl["AGE"], np.floor(s["age"]))
    np.testing.assert_array_equal(sl["SEX"] == "F", s["female"])
    assert set(sl["RACE"]) <= set(cdisc.RACE_TERMS.values())
    assert (sl.loc[ds.subjects["RACE"] == "black", "RACE"] == "BLACK OR AFRICAN AMERICAN").all()
    for j in range(len(ds.strata_rules)):
        np.testing.assert_array_equal(sl[f"STRAT{j + 1}FL"] == "Y", s[f"stratum_factor_{j + 1}"])
    primary = ds.visit_column(ds.primary_week)
    np.testing.assert_array_equal(sl["COMPLFL"] == "Y", a.observed[:, primary])
    np.testing.assert_array_equal(sl["SELENABL"], a.selena[:, 0])
    np.testing.assert_array_equal(sl["SLE2KBL"], a.sledai_2k[:, 0])
    np.testing.assert_array_equal(sl["BILAGBL"], NUMERIC[a.bilag[:, 0]].sum(axis=-1))
    np.testing.assert_array_equal(sl["C3BL"], a.c3[:, 0])
    np.testing.assert_array_equal(sl["PREDBL"], a.prednisone_mg[:, 0])
    np.testing.assert_array_equal(sl["TRTFFL"] == "Y", s["treatment_failure"])


def test_adsl_discontinuation(ds: TrialDataset, sl: pd.DataFrame) -> None:
    s = ds.subject_arrays
    disc = s["disc_visit"] >= 0
    assert disc.any()
    assert not disc.all()
    np.testing.assert_array_equal(sl["DCSREAS"] != "", disc)
    np.testing.assert_array_equal(sl["EOSSTT"] == "DISCONTINUED", disc)
    assert set(sl.loc[~disc, "EOSSTT"]) == {"COMPLETED"}
    dcsdy = sl["DCSDY"].to_numpy(dtype=float, na_value=np.nan)
    np.testing.assert_array_equal(np.isnan(dcsdy), ~disc)
    np.testing.assert_array_equal(dcsdy[disc], np.floor(s["disc_day"][disc]) + 1)
    # A severe flare has no NCOMPLT term: OTHER, specified in DCSREASP.
    flare = disc & (s["disc_reason"] == 3)
    assert (sl.loc[flare, "DCSREAS"] == "OTHER").all()
    assert (sl.loc[flare, "DCSREASP"] == "SEVERE FLARE").all()


# -- ADEFF ---------------------------------------------------------------------
def test_adeff_has_one_row_per_subject_observed_visit_and_measured_parameter(
    ds: TrialDataset, eff: pd.DataFrame
) -> None:
    obs = ds.arrays.observed
    measured = eff[eff["PARAMCD"].isin(MEASURED)]
    assert set(eff["PARAMCD"]) == set(MEASURED) | set(RESPONDERS)
    assert len(measured) == obs.sum() * len(MEASURED)
    assert not measured.duplicated(["USUBJID", "PARAMCD", "AVISITN"]).any()
    for code in MEASURED:
        rows = measured[measured["PARAMCD"] == code]
        np.testing.assert_array_equal(~np.isnan(_grid(ds, rows, "AVAL")), obs)


def test_adeff_values_and_visits_follow_the_arrays(ds: TrialDataset, eff: pd.DataFrame) -> None:
    a = ds.arrays
    for code, values in (("SELENA", a.selena), ("PGA", a.pga), ("C4", a.c4)):
        got = _grid(ds, eff[eff["PARAMCD"] == code], "AVAL")
        np.testing.assert_array_equal(got[a.observed], values[a.observed])
    sel = eff[eff["PARAMCD"] == "SELENA"]
    np.testing.assert_array_equal(
        _grid(ds, sel, "ADY")[a.observed], np.floor(a.day[a.observed]) + 1
    )
    visits = sel.drop_duplicates("AVISITN").set_index("AVISITN")["AVISIT"]
    assert visits[0] == "BASELINE"
    assert visits[4] == "WEEK 4"
    assert visits[52] == "WEEK 52"


def test_chg_is_aval_minus_base(ds: TrialDataset, eff: pd.DataFrame) -> None:
    m = eff[eff["PARAMCD"].isin(MEASURED)]
    post = m[m["AVISITN"] > 0]
    assert post["CHG"].notna().all()
    np.testing.assert_allclose(post["CHG"], post["AVAL"] - post["BASE"], rtol=0, atol=1e-9)
    assert (post["CHG"] != 0).any()
    # BASE is the subject's own week-0 value of the same parameter.
    base = m[m["AVISITN"] == 0].set_index(["USUBJID", "PARAMCD"])["AVAL"]
    np.testing.assert_array_equal(
        m["BASE"], base.loc[list(zip(m["USUBJID"], m["PARAMCD"], strict=True))]
    )
    assert m.loc[m["AVISITN"] == 0, "CHG"].isna().all()
    r = eff[eff["PARAMCD"].isin(RESPONDERS)]
    assert r["BASE"].isna().all()
    assert r["CHG"].isna().all()


def test_ablfl_marks_only_the_week_0_records(ds: TrialDataset, eff: pd.DataFrame) -> None:
    flagged = eff[eff["ABLFL"] == "Y"]
    assert (flagged["AVISITN"] == 0).all()
    assert set(flagged["PARAMCD"]) == set(MEASURED)
    assert len(flagged) == ds.n * len(MEASURED)
    assert set(eff.loc[eff["AVISITN"] == 0, "ABLFL"]) == {"Y"}
    assert set(eff.loc[eff["AVISITN"] != 0, "ABLFL"]) == {""}


@pytest.mark.parametrize("code", RESPONDERS)
def test_responders_agree_with_the_endpoints_at_every_week(
    ds: TrialDataset, eff: pd.DataFrame, code: str
) -> None:
    a = ds.arrays
    rows = eff[eff["PARAMCD"] == code]
    assert set(rows["AVISITN"]) == set(ds.visit_weeks[1:])
    assert len(rows) == ds.n * (len(ds.visit_weeks) - 1)
    aval = _grid(ds, rows, "AVAL")
    nri = _grid(ds, rows.assign(NRI=rows["DTYPE"] == "NRI"), "NRI") == 1
    assert ((rows["AVAL"] == 1) == (rows["AVALC"] == "Y")).all()
    compute: Callable[[float], NDArray[np.bool_]] = {
        "SRI4": lambda w: sri(ds, w, 4).responder,
        "SRI5": lambda w: sri(ds, w, 5).responder,
        "SRI6": lambda w: sri(ds, w, 6).responder,
        "BICLA": lambda w: bicla(ds, w),
        "LLDAS": lambda w: lldas(ds, w),
    }[code]
    for j, week in enumerate(ds.visit_weeks):
        if j == 0:
            continue
        np.testing.assert_array_equal(aval[:, j], compute(week).astype(float), f"week {week}")
        # Dropouts and treatment failures: non-responders, imputed (NRI).
        not_evaluable = ~a.observed[:, j] | a.treatment_failure[:, j]
        np.testing.assert_array_equal(nri[:, j], not_evaluable, f"week {week}")
        assert (aval[not_evaluable, j] == 0).all()
    dropped = ~a.observed[:, -1] & ~a.treatment_failure[:, -1]
    assert dropped.any()
    assert nri[dropped, -1].all()
    assert a.treatment_failure[:, -1].any()
    assert nri[a.treatment_failure[:, -1], -1].all()


def test_anl01fl_rule(ds: TrialDataset, eff: pd.DataFrame) -> None:
    a = ds.arrays
    sel = eff[eff["PARAMCD"] == "SELENA"]
    anl = _grid(ds, sel.assign(F=sel["ANL01FL"] == "Y"), "F") == 1
    np.testing.assert_array_equal(anl, a.observed & ~a.treatment_failure)
    assert (eff.loc[eff["PARAMCD"].isin(RESPONDERS), "ANL01FL"] == "Y").all()
    assert set(eff.loc[eff["PARAMCD"].isin(MEASURED), "DTYPE"]) == {""}


def test_a_data_cut_gives_no_responder_record_for_visits_still_to_come(
    ds: TrialDataset,
) -> None:
    day = float(np.median(ds.subject_arrays["rand_calendar_day"])) + 200.0
    cut = ds.cut(day)
    s, a = cut.subject_arrays, cut.arrays
    rows = adeff(cut)
    sri4 = rows[rows["PARAMCD"] == "SRI4"]
    has = ~np.isnan(_grid(cut, sri4, "AVAL"))
    future = ~a.observed & (s["disc_visit"] < 0)[:, None]
    assert future[:, 1:].any()
    np.testing.assert_array_equal(has[:, 1:], ~future[:, 1:])
    sl = adsl(cut)
    assert "ONGOING" in set(sl["EOSSTT"])
    assert "ONGOING AT DATA CUT" in set(adtte(cut)["EVNTDESC"])


# -- ADTTE ---------------------------------------------------------------------
def test_adtte_agrees_with_the_flare_endpoint(ds: TrialDataset, tte: pd.DataFrame) -> None:
    f = flares(ds)
    assert len(tte) == ds.n
    assert tte["USUBJID"].is_unique
    assert set(tte["PARAMCD"]) == {"TTSEVFL"}
    np.testing.assert_array_equal(tte["AVAL"], f.time_to_severe)
    np.testing.assert_array_equal(tte["CNSR"], np.where(f.severe_event, 0, 1))
    assert set(tte["CNSR"]) == {0, 1}
    assert (tte.loc[tte["CNSR"] == 0, "EVNTDESC"] == "SEVERE FLARE").all()
    assert (tte.loc[tte["CNSR"] == 1, "EVNTDESC"] != "SEVERE FLARE").all()


# -- metadata ------------------------------------------------------------------
def test_every_variable_is_in_the_variables_table_with_label_and_type(
    ds: TrialDataset, sl: pd.DataFrame, eff: pd.DataFrame, tte: pd.DataFrame
) -> None:
    table = variables_table(ds)
    assert not table.duplicated(["dataset", "name"]).any()
    for name, frame in (("ADSL", sl), ("ADEFF", eff), ("ADTTE", tte)):
        meta = table[table["dataset"] == name].set_index("name")
        assert list(meta.index) == list(frame.columns), name
        for col in frame.columns:
            label, kind = str(meta.loc[col, "label"]), str(meta.loc[col, "type"])
            assert 0 < len(label) <= 40, (name, col, label)
            assert len(col) <= 8, (name, col)
            values = frame[col]
            if kind == "Num":
                assert pd.api.types.is_numeric_dtype(values), (name, col)
                assert not pd.api.types.is_bool_dtype(values), (name, col)
            else:
                assert kind == "Char", (name, col, kind)
                assert values.map(lambda x: isinstance(x, str)).all(), (name, col)


def test_variables_table_keeps_the_stratification_rules(ds: TrialDataset) -> None:
    table = variables_table(ds)
    strat = table[(table["dataset"] == "ADSL") & table["name"].str.startswith("STRAT")]
    assert strat["notes"].tolist() == list(ds.strata_rules)
    trt = table.loc[(table["dataset"] == "ADSL") & (table["name"] == "TRT01PN"), "codelist"]
    assert trt.item() == "1 = placebo; 2 = belimumab_1mg; 3 = belimumab_10mg"
    generic = variables_table()
    assert "STRATnFL" in set(generic["name"])
    assert "STRAT1FL" not in set(generic["name"])
    assert set(generic["type"]) == {"Char", "Num"}


# -- files ---------------------------------------------------------------------
def _read_csv(path: Path, like: pd.DataFrame) -> pd.DataFrame:
    """Read a written CSV with the column types of the frame it came from."""
    numeric = [c for c in like.columns if pd.api.types.is_numeric_dtype(like[c])]
    text = {c: str for c in like.columns if c not in numeric}
    back = pd.read_csv(
        path,
        dtype=text,
        keep_default_na=False,  # a blank character value is "", not missing
        na_values={c: [""] for c in numeric},
    )
    return back.astype(like.dtypes.to_dict())


def test_write_cdisc_writes_csv_and_parquet_that_read_back_equal(
    ds: TrialDataset, tmp_path: Path
) -> None:
    out = tmp_path / "new" / "cdisc"
    written = write_cdisc(ds, out, parquet=True)
    names = ("adsl", "adeff", "adtte", "variables")
    assert sorted(p.name for p in written) == sorted(
        [f"{n}.csv" for n in names] + [f"{n}.parquet" for n in names]
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    frames = {"adsl": adsl(ds), "adeff": adeff(ds), "adtte": adtte(ds)}
    frames["variables"] = variables_table(ds)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"), frame)
        pd.testing.assert_frame_equal(_read_csv(out / f"{name}.csv", frame), frame)


def test_write_cdisc_default_parquet_follows_pyarrow(
    ds: TrialDataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    written = write_cdisc(ds, tmp_path)
    assert {p.suffix for p in written} == {".csv"}
    with pytest.raises(LupsimError, match="pyarrow"):
        write_cdisc(ds, tmp_path / "pq", parquet=True)
    assert not (tmp_path / "pq").exists()


def test_writing_into_a_file_raises_and_leaves_nothing_behind(
    ds: TrialDataset, tmp_path: Path
) -> None:
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    with pytest.raises(LupsimError, match="not a directory"):
        write_cdisc(ds, target)
    with pytest.raises(LupsimError, match="cannot create"):
        write_cdisc(ds, target / "sub" / "dir")
    assert target.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["results.txt"]


def test_a_failed_write_leaves_no_partial_files(
    ds: TrialDataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "adsl.csv").write_text("previous run")

    def full_disk(self: pd.DataFrame, path: Path, *args: object, **kwargs: object) -> None:
        Path(path).write_bytes(b"PAR1 half")  # a part file really exists, then fails
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    with pytest.raises(LupsimError, match="No space left on device"):
        write_cdisc(ds, old, parquet=True)
    assert [p.name for p in old.iterdir()] == ["adsl.csv"]
    assert (old / "adsl.csv").read_text() == "previous run"
    fresh = tmp_path / "a" / "b"
    with pytest.raises(LupsimError):
        write_cdisc(ds, fresh, parquet=True)
    assert not (tmp_path / "a").exists()  # the directories it created are gone too


def test_arm_codes_stay_unique_when_truncated() -> None:
    assert cdisc._arm_codes(("placebo", "drug 10 mg/kg")) == ["PLACEBO", "DRUG_10_MG_KG"]
    long = ("x" * 25 + "1", "x" * 25 + "2")
    assert cdisc._arm_codes(long) == ["ARM1", "ARM2"]


def test_binomial_adsl_leaves_unmodelled_patients_missing() -> None:
    """A binomial design draws responses only: no sex, race, region or baseline
    disease, so ADSL leaves them missing instead of showing placeholders."""
    from lupsim.scenario import load_scenario
    from lupsim.trial import simulate_trial
    from lupsim.trial.cdisc import adsl

    a = adsl(simulate_trial(load_scenario("two-arm-binomial"), seed=1))
    assert (a["SEX"] == "").all()
    assert (a["RACE"] == "").all()
    assert (a["SERACTFL"] == "").all()
    assert a["SELENABL"].isna().all()
    assert a["AGE"].isna().all()
    assert set(a["COMPLFL"]) == {"Y"}  # what the design does say is kept
    disease = adsl(simulate_trial(load_scenario("bliss52"), seed=1))
    assert set(disease["SEX"]) == {"F", "M"}
    assert disease["SELENABL"].notna().all()
