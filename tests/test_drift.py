"""Drift reports: hand-worked shares and shifts, numpy's statistics of the
data as the oracle, a file streamed in chunks against the report of all its
rows at once, and JSON models through the command line."""

import json

import numpy as np
import pandas as pd
import pytest

from cases import NAMES, frame, make, new_rows, train
from skscale import (AutoScaler, BatchNormScaler, LogScaler, MaxAbsScaler, MinMaxScaler,
                     PowerTransformer, QuantileTransformer, RobustScaler, Scaler,
                     SquashingScaler, UnitNormScaler, ZScoreScaler)
from skscale.cli import main


def test_min_max_drift_by_hand():
    scaler = MinMaxScaler(clip=True).fit([[0.0], [10.0], [np.nan]])
    r = scaler.check_drift([[5.0], [12.0], [np.nan], [-1.0]]).iloc[0]
    # 1 of 4 values missing (1 of 3 at fit); of the 3 others, one below 0, one above 10
    assert r["rows"] == 4 and r["missing"] == 0.25
    assert np.isnan(r["missing_fit"])  # (min-max learns no count)
    assert r["below_min"] == r["above_max"] == 1 / 3 and r["outside"] == 2 / 3
    assert r["clipped"] == 2 / 3
    assert r["mean"] == 16 / 3 and np.isnan(r["mean_fit"]) and np.isnan(r["mean_shift"])


def test_z_score_drift_by_hand():
    scaler = ZScoreScaler().fit([[1.0], [3.0], [5.0], [np.nan]])
    r = scaler.check_drift([[5.0], [7.0]]).iloc[0]
    # training mean 3, standard deviation sqrt(8 / 3); new mean 6
    assert r["missing_fit"] == 0.25 and r["missing"] == 0.0
    assert r["mean_fit"] == 3.0 and r["std_fit"] == pytest.approx(np.sqrt(8 / 3), rel=1e-15)
    assert r["mean_shift"] == pytest.approx(3 / np.sqrt(8 / 3), rel=1e-15)
    assert np.isnan(r["outside"]) and np.isnan(r["clipped"])  # (z-score learns no range)


def _oracle(X_fit, X_new):
    """Each report column computed by numpy from the rows themselves."""
    lo, hi = np.nanmin(X_fit, axis=0), np.nanmax(X_fit, axis=0)
    seen = (~np.isnan(X_new)).sum(axis=0)
    return {"missing": np.isnan(X_new).mean(axis=0), "missing_fit": np.isnan(X_fit).mean(axis=0),
            "below_min": (X_new < lo).sum(axis=0) / seen, "above_max": (X_new > hi).sum(axis=0) / seen,
            "mean": np.nanmean(X_new, axis=0), "mean_fit": np.nanmean(X_fit, axis=0),
            "std_fit": np.nanstd(X_fit, axis=0),
            "mean_shift": (np.nanmean(X_new, axis=0) - np.nanmean(X_fit, axis=0))
            / np.nanstd(X_fit, axis=0)}


@pytest.mark.parametrize("est", [AutoScaler(), Scaler("auto"), ZScoreScaler(), MinMaxScaler(),
                                 RobustScaler(keep_sketch=True), LogScaler(offset="auto"),
                                 BatchNormScaler(batch_size=600), MaxAbsScaler(),
                                 QuantileTransformer(), SquashingScaler(), PowerTransformer(),
                                 PowerTransformer(keep_stats=True)],
                         ids=lambda e: type(e).__name__ + str(getattr(e, "method", ""))
                         + ("_kept" if getattr(e, "keep_stats", False) else ""))
def test_each_report_holds_what_its_method_learned(est):
    X = train()
    Y = new_rows(X) * 1.2
    report = est.fit(frame(X)).check_drift(frame(Y))
    assert list(report["column"]) == NAMES
    oracle = _oracle(X, Y)
    if isinstance(est, BatchNormScaler):  # one batch: its mean, and unbiased variance
        oracle["std_fit"] = np.nanstd(X, axis=0, ddof=1)
        oracle["mean_shift"] = (oracle["mean"] - oracle["mean_fit"]) / oracle["std_fit"]
    known = {"AutoScaler": oracle, "Scaler": oracle,
             "ZScoreScaler": ("missing_fit", "mean_fit", "std_fit", "mean_shift"),
             "MinMaxScaler": ("below_min", "above_max"),
             "RobustScaler": ("missing_fit", "below_min", "above_max"),
             "LogScaler": ("below_min", "above_max"),
             "BatchNormScaler": ("mean_fit", "std_fit", "mean_shift"),
             "MaxAbsScaler": ("below_min", "above_max"),
             "QuantileTransformer": ("missing_fit", "below_min", "above_max"),
             "SquashingScaler": ("missing_fit", "below_min", "above_max"),
             "PowerTransformer": ("missing_fit", *(("below_min", "above_max")
                                                   if getattr(est, "keep_stats", 0) else ()))
             }[type(est).__name__]
    for key in ("missing", "mean", *known):  # (of the new rows: always known)
        np.testing.assert_allclose(report[key], oracle[key], rtol=1e-12, err_msg=key)
    for key in set(oracle) - {"missing", "mean", *known}:
        assert report[key].isna().all(), key


def test_where_the_method_clips_the_report_counts_it():
    X = train()
    Y = new_rows(X) - 0.5 * np.nanstd(X, axis=0)
    report = LogScaler(offset="auto", out_of_domain="clip").fit(X).check_drift(Y)
    np.testing.assert_allclose(report["clipped"], report["below_min"], rtol=0)
    assert (report["clipped"] > 0).all()
    assert ZScoreScaler().fit(X).check_drift(Y)["clipped"].isna().all()


def test_max_abs_and_quantile_clipping_by_hand():
    fit = [[-2.0], [1.0], [np.nan]]
    new = [[-3.0], [1.5], [2.5], [0.0]]
    r = MaxAbsScaler(clip=True).fit(fit).check_drift(new).iloc[0]
    # max |x| = 2: -3 and 2.5 clip; below -2: one, above 1: two
    assert r["clipped"] == 0.5 and r["below_min"] == 0.25 and r["above_max"] == 0.5
    assert np.isnan(MaxAbsScaler().fit(fit).check_drift(new).iloc[0]["clipped"])
    r = QuantileTransformer(n_quantiles=3).fit(fit).check_drift(new).iloc[0]
    # beyond the extreme quantiles -2 and 1 the map is 0 or 1; 1 of 3 missing at fit
    assert r["clipped"] == r["outside"] == 0.75
    assert r["missing_fit"] == pytest.approx(1 / 3, rel=1e-15)


def test_per_sample_scalers_have_no_reference():
    with pytest.raises(TypeError, match="learns nothing of the columns' training data"):
        UnitNormScaler().fit(train()).check_drift(train())


def test_a_file_streamed_in_chunks_gives_the_report_of_all_its_rows(tmp_path, capsys):
    X, Y = train(n=3000), new_rows(train(n=3000), n=2500) * 1.1
    train_file, new_file = tmp_path / "train.parquet", tmp_path / "new.csv"
    frame(X).assign(label="a").to_parquet(train_file)
    frame(Y).assign(label="b").to_csv(new_file, index=False)
    for method, model in (("auto", "m.json"), ("minmax", "m.skops")):
        assert main(["fit", "--method", method, str(train_file), "-o", str(tmp_path / model),
                     "-q"]) == 0
        out = tmp_path / f"{method}.csv"
        assert main(["check", str(tmp_path / model), str(new_file), "--chunk-rows", "700",
                     "-o", str(out)]) == 0
        streamed = pd.read_csv(out)
        fitted = make(method if method != "auto" else "auto").fit(frame(X))
        whole = fitted.check_drift(frame(Y))
        assert list(streamed.columns) == list(whole.columns)
        for key in whole.columns[1:]:
            np.testing.assert_allclose(streamed[key].to_numpy(dtype=float),
                                       whole[key].to_numpy(dtype=float), rtol=1e-12,
                                       err_msg=f"{method} {key}")
    capsys.readouterr()
    assert main(["check", str(tmp_path / "m.json"), str(new_file)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["column", "rows", "missing", "missing_fit", "below_min",
                                "above_max", "outside", "clipped", "mean", "mean_fit",
                                "std_fit", "mean_shift"]
    assert [line.split()[0] for line in table[1:]] == NAMES


def test_the_command_line_writes_and_reads_json_models(tmp_path, capsys):
    X = train(n=500)
    data, out_json, out_skops = (tmp_path / f for f in ("x.parquet", "a.csv", "b.csv"))
    frame(X).to_parquet(data)
    for model in ("m.json", "m.skops"):
        assert main(["fit", "--method", "robust", "--param", "keep_sketch=True", str(data),
                     "-o", str(tmp_path / model), "-q"]) == 0
    text = json.loads((tmp_path / "m.json").read_text())
    assert text["class"] == "RobustScaler" and text["format"] == "skscale-model"
    assert main(["transform", str(tmp_path / "m.json"), str(data), "-o", str(out_json)]) == 0
    assert main(["transform", str(tmp_path / "m.skops"), str(data), "-o", str(out_skops)]) == 0
    assert out_json.read_bytes() == out_skops.read_bytes()
    assert main(["info", str(tmp_path / "m.json")]) == 0
    assert "method: robust (RobustScaler)" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text('{"format": "skscale-model", "schema": 9}')
    assert main(["info", str(tmp_path / "bad.json")]) == 2
    assert "schema 9" in capsys.readouterr().err
    assert main(["info", "--format", "json", str(tmp_path / "m.skops")]) == 2
    assert "a zip archive (a skops file?), not JSON text" in capsys.readouterr().err
