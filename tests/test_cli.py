"""The ``skscale`` command line against the estimators run in memory.

Every method is fitted and applied through ``main([...])`` on Parquet and CSV
files several times the chunk size, with NaN, nulls, an integer column and a
string column that passes through; the output must equal ``fit(X)`` then
``transform(X)`` on the whole array.  Bad commands and files must give one
line on stderr, a non-zero status and no output file.
"""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from skscale import SCALERS
from skscale.cli import models, options, streams
from skscale._batch_norm import minibatches
from skscale.cli import main

N_ROWS, CHUNK = 5000, 1000
COLUMNS = [f"c{j}" for j in range(8)]
PARAMS = {  # parameters that suit 8 columns
    "minmax": {"feature_range": (-1, 1)},
    "zscore": {"ddof": 1},
    # sketches that hold all 5000 rows, so their quantiles are the exact ones
    "robust": {"quantile_range": (10.0, 90.0), "sketch_size": 8000},
    "decimal": {},
    "log": {"offset": "auto"},
    "unit_norm": {"norm": "l1"},
    "layer_norm": {"eps": 1e-3},
    "instance_norm": {"n_channels": 4},
    "group_norm": {"num_groups": 2, "n_channels": 4},
    "rms_norm": {"eps": 1e-6},
    # 64-row mini-batches straddle the 1000-row chunks
    "batch_norm": {"batch_size": 64, "momentum": 0.1},
    "maxabs": {"clip": True},
    "power": {},
    "quantile": {"n_quantiles": 200, "sketch_size": 8000},  # (exact, as robust's)
    "squashing": {"max_absolute_value": 2.0, "sketch_size": 8000},
}
# A stream's lambda comes from the grid statistics: within the streamed
# tolerance of the in-memory fit (tests/test_power.py), not to rounding.
RTOL = {"power": 1e-4}
PER_SAMPLE = {"unit_norm", "layer_norm", "instance_norm", "group_norm", "rms_norm"}
# What ``info`` must show per column: the fitted attributes of shape (n_features,)
INFO = {"minmax": ["data_max_", "data_min_", "data_range_", "min_", "scale_"],
        "zscore": ["mean_", "n_samples_seen_", "scale_", "var_"],  # NaN-aware counts
        "robust": ["center_", "scale_"], "decimal": ["digits_", "scale_"], "log": ["offset_"],
        "batch_norm": ["running_mean_", "running_var_"], "maxabs": ["max_abs_", "scale_"],
        "power": ["lambdas_"], "squashing": ["center_", "data_max_", "data_min_", "scale_"]}


def make_table(n=N_ROWS, seed=0):
    """8 numeric columns (c2 integer) with NaN and nulls, and a string column
    ``label`` between c3 and c4; also the oracle's array (nulls as NaN)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, size=(n, 8)) * rng.uniform(0.5, 50, 8) + rng.uniform(-100, 100, 8)
    X[:, 2] = np.round(X[:, 2])
    nan = rng.random(X.shape) < 0.01
    nan[:, 2] = False  # integers have no NaN, only nulls
    X[nan] = np.nan
    null = rng.random(X.shape) < 0.01
    arrays = {}
    for j, name in enumerate(COLUMNS):
        values = X[:, j].astype(np.int64) if j == 2 else X[:, j]
        arrays[name] = pa.array(values, mask=null[:, j])
        if j == 3:
            arrays["label"] = pa.array([f"row {i}" for i in range(n)])
    X[null] = np.nan
    return pa.table(arrays), X


def write(table, path):
    if str(path).endswith(".csv"):
        pcsv.write_csv(table, path)
    else:
        pq.write_table(table, path, row_group_size=1700)  # row groups unlike the chunks
    return str(path)


def read(path):
    return pcsv.read_csv(path) if str(path).endswith(".csv") else pq.read_table(path)


def matrix(table, columns=COLUMNS):
    return np.column_stack([pa.compute.cast(table[c], pa.float64()).to_numpy() for c in columns])


def assert_same_column(got, expected):
    """The same type, nulls and values (NaN equal to NaN, unlike ``equals``)."""
    assert got.type == expected.type
    np.testing.assert_array_equal(got.is_null().to_numpy(), expected.is_null().to_numpy())
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())


def params_args(params):
    return [arg for k, v in params.items() for arg in ("--param", f"{k}={v!r}")]


def run(capsys, *argv):
    """``main(argv)``; returns (status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_close(got, expected, rtol=1e-12):
    """NaN exactly where expected, and each column within ``rtol`` of its
    largest magnitude (values near zero carry the rounding of the others)."""
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    with np.errstate(invalid="ignore"):
        error = np.nanmax(np.abs(got - expected), axis=0)
    bound = rtol * np.nanmax(np.abs(expected), axis=0)
    assert (error <= bound).all(), (error, bound)


@pytest.fixture(scope="module")
def table_and_oracle():
    return make_table()


@pytest.mark.parametrize("ext", ["parquet", "csv"])
@pytest.mark.parametrize("method", list(SCALERS))
def test_every_method_streams_like_fit_in_memory(method, ext, table_and_oracle, tmp_path, capsys):
    table, X = table_and_oracle
    data = write(table, tmp_path / f"train.{ext}")
    model, out, back = tmp_path / "m.skops", tmp_path / f"out.{ext}", tmp_path / f"back.{ext}"
    params = PARAMS[method]
    chunk = ("--chunk-rows", CHUNK)

    status, _, err = run(capsys, "fit", "--method", method, *params_args(params), *chunk,
                         data, "-o", model)
    # the text column is left out, and the user told why: its first value is no number
    why = ("holds 'row 0' at row 0, which is not a number" if ext == "csv"
           else "holds text (string), not numbers")
    assert (status, err) == (0, f"skscale: note: column 'label' left out: it {why}"
                             + (" ; if it marks a missing value, pass --na-values 'row 0'\n"
                                .replace(" ;", ";") if ext == "csv" else "\n"))
    keep = ["--keep-stats"] if method in PER_SAMPLE else []
    assert run(capsys, "transform", model, data, "-o", out, *chunk, *keep)[0] == 0

    oracle = SCALERS[method](**params).fit(X)
    scaled = read(out)
    assert_close(matrix(scaled), oracle.transform(X), RTOL.get(method, 1e-12))
    assert_same_column(scaled["label"], table["label"])
    expected_names = table.column_names + (models.stats_columns(oracle) if keep else [])
    assert scaled.column_names == expected_names  # in their original order
    assert all(scaled.schema.field(c).type == pa.float64() for c in COLUMNS)
    for j, c in enumerate(COLUMNS):  # nulls stay null (a CSV reads NaN back as null too)
        null = table[c].is_null().to_numpy() if ext == "parquet" else np.isnan(X[:, j])
        np.testing.assert_array_equal(scaled[c].is_null().to_numpy(), null)

    assert run(capsys, "inverse", model, out, "-o", back, *chunk)[0] == 0
    restored = read(back)
    assert restored.column_names == table.column_names
    assert_close(matrix(restored), X, rtol=1e-10)
    assert_same_column(restored["label"], table["label"])

    status, text, _ = run(capsys, "info", model)
    assert status == 0 and f"method: {method}" in text
    assert_info_shows(text, oracle, INFO.get(method, []), RTOL.get(method, 1e-12))
    if method == "batch_norm":
        assert f"num_batches_tracked_: {oracle.num_batches_tracked_}" in text
    if method in PER_SAMPLE:
        assert "nothing per column" in text


def assert_info_shows(text, oracle, attributes, rtol=1e-12):
    """``info``'s table: a row per column, with the fitted ``attributes``."""
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("column"))
    header = lines[head].split()
    rows = [line.split() for line in lines[head + 1:head + 1 + len(COLUMNS)]]
    assert [r[0] for r in rows] == COLUMNS
    assert header == ["column", *attributes]
    for k, name in enumerate(attributes, start=1):
        shown = np.array([float(r[k]) for r in rows])
        assert_close(shown[None, :], np.asarray(getattr(oracle, name), dtype=float)[None, :],
                     rtol)


def test_batch_norm_ends_with_the_running_statistics_of_fit(tmp_path, capsys):
    # 2001 rows, 100-row mini-batches: the last row is a chunk of its own and
    # must join the last mini-batch, as BatchNormScaler.fit does
    table, X = make_table(n=2001, seed=3)
    data = write(table, tmp_path / "train.parquet")
    model = tmp_path / "bn.skops"
    assert run(capsys, "fit", "--method", "batch_norm", "--param", "batch_size=100",
               "--chunk-rows", 1000, data, "-o", model)[0] == 0
    fitted = models.load_model(str(model), options.build_parser().parse_args(["info", str(model)]))
    oracle = SCALERS["batch_norm"](batch_size=100).fit(X)
    assert fitted.num_batches_tracked_ == oracle.num_batches_tracked_ == 20
    np.testing.assert_allclose(fitted.running_mean_, oracle.running_mean_, rtol=1e-12)
    np.testing.assert_allclose(fitted.running_var_, oracle.running_var_, rtol=1e-12)


@pytest.mark.parametrize("sizes", [[5], [3, 4], [100], [99], [101], [64, 37, 1], [1, 1, 1]])
def test_minibatches_cut_rows_as_batch_norm_fit_does(sizes):
    total = sum(sizes)
    cut = list(minibatches(iter(np.split(np.arange(total), np.cumsum(sizes)[:-1])), 32))
    assert np.array_equal(np.concatenate([b for _, b in cut]), np.arange(total))
    assert [s for s, _ in cut] == list(np.cumsum([0] + [len(b) for _, b in cut])[:-1])
    full = total // 32 - (total % 32 == 1 and total > 32)
    expected = [32] * full + ([total - 32 * full] if total > 32 * full else [])
    assert [len(b) for _, b in cut] == expected


def test_unselected_columns_pass_through_unchanged(table_and_oracle, tmp_path, capsys):
    table, X = table_and_oracle
    data = write(table, tmp_path / "train.parquet")
    model, out = tmp_path / "m.skops", tmp_path / "out.parquet"
    assert run(capsys, "fit", "--columns", "c1,c5", data, "-o", model)[0] == 0
    assert run(capsys, "transform", model, data, "-o", out)[0] == 0
    scaled = read(out)
    assert scaled.column_names == table.column_names
    for name in table.column_names:
        if name not in ("c1", "c5"):
            assert_same_column(scaled[name], table[name])  # the integer c2 included
    oracle = SCALERS["zscore"]().fit(X[:, [1, 5]])
    assert_close(matrix(scaled, ["c1", "c5"]), oracle.transform(X[:, [1, 5]]))


def test_float32_stays_float32(tmp_path, capsys):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3000, 3)).astype(np.float32)
    data = write(pa.table({f"c{j}": X[:, j] for j in range(3)}), tmp_path / "f.parquet")
    model, out = tmp_path / "m.skops", tmp_path / "out.parquet"
    assert run(capsys, "fit", "--chunk-rows", 1000, data, "-o", model)[0] == 0
    assert run(capsys, "transform", model, data, "-o", out)[0] == 0
    scaled = read(out)
    assert all(f.type == pa.float32() for f in scaled.schema)
    expected = SCALERS["zscore"]().fit(X).transform(X)
    np.testing.assert_allclose(matrix(scaled, ["c0", "c1", "c2"]), expected, rtol=1e-6, atol=1e-6)


def test_pandas_files_read_back_with_their_index_and_float_columns(tmp_path, capsys):
    df = pd.DataFrame({"n": pd.array([1, None, 3, 4], dtype="Int64"), "x": [0.5, 1.5, 2.5, 3.5]},
                      index=pd.Index([10, 20, 30, 40], name="key"))
    data = str(tmp_path / "p.parquet")
    df.to_parquet(data)
    model, out = tmp_path / "m.skops", tmp_path / "out.parquet"
    assert run(capsys, "fit", "--method", "minmax", data, "-o", model)[0] == 0
    assert run(capsys, "info", model)[1].count("\n") >= 4  # n and x: the index is not scaled
    assert run(capsys, "transform", model, data, "-o", out)[0] == 0
    back = pd.read_parquet(out)
    assert back.index.equals(df.index)
    assert back["n"].dtype == np.float64
    np.testing.assert_array_equal(back["n"].to_numpy(), [0.0, np.nan, 2 / 3, 1.0])
    np.testing.assert_array_equal(back["x"].to_numpy(), [0.0, 1 / 3, 2 / 3, 1.0])


@pytest.mark.parametrize("how", [["-o", "m.joblib"], ["-o", "m.model", "--format", "joblib"]])
def test_joblib_models_on_request(how, table_and_oracle, tmp_path, capsys):
    table, X = table_and_oracle
    data = write(table, tmp_path / "train.csv")
    out = tmp_path / "out.parquet"
    model = tmp_path / how[1]
    assert run(capsys, "fit", "--method", "decimal", data, *how[:1], model, *how[2:])[0] == 0
    assert type(joblib.load(model)).__name__ == "DecimalScaler"
    assert run(capsys, "transform", model, data, "-o", out, *how[2:], "--trust-pickle")[0] == 0
    assert_close(matrix(read(out)), SCALERS["decimal"]().fit(X).transform(X))


def test_format_overrides_the_extension(table_and_oracle, tmp_path, capsys):
    table, _ = table_and_oracle
    data = write(table.slice(0, 50), tmp_path / "train.csv")
    os.rename(data, tmp_path / "train.txt")
    model, out = tmp_path / "m.skops", tmp_path / "out.dat"
    assert run(capsys, "fit", "--format", "csv", tmp_path / "train.txt", "-o", model)[0] == 0
    assert run(capsys, "transform", "--format", "csv", model, tmp_path / "train.txt",
               "-o", out)[0] == 0
    assert pcsv.read_csv(out).num_rows == 50


def test_progress_bar_only_on_a_terminal_and_not_quiet(table_and_oracle, tmp_path, capsys,
                                                       monkeypatch):
    table, _ = table_and_oracle
    data = write(table, tmp_path / "train.parquet")
    model = tmp_path / "m.skops"
    err = run(capsys, "fit", data, "-o", model)[2]  # stderr is no terminal here: no bar
    assert err == "skscale: note: column 'label' left out: it holds text (string), not numbers\n"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(streams, "PROGRESS_DELAY", 0)
    status, _, err = run(capsys, "transform", model, data, "-o", tmp_path / "o.parquet",
                         "--chunk-rows", 1000)
    assert status == 0 and "rows" in err and "train.parquet" in err
    # --quiet: neither the bar nor the notes
    assert run(capsys, "transform", "-q", model, data, "-o", tmp_path / "o.parquet")[2] == ""


# ---------------------------------------------------------------- bad input

@pytest.fixture()
def files(tmp_path, capsys):
    """A training file, a scaler fitted on c0..c3, and odd files beside them."""
    table, _ = make_table(n=4000, seed=1)
    write(table, tmp_path / "train.parquet")
    write(table.drop_columns(["c2"]), tmp_path / "other.parquet")
    write(table.slice(0, 0), tmp_path / "empty.parquet")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "junk.parquet").write_bytes(b"not a parquet file at all")
    # a non-number past the CSV reader's first block (1 MiB, where it infers
    # the types), so that output has already begun when it is met
    late = make_table(n=20000, seed=2)[0].to_pandas()
    late["c1"] = late["c1"].astype(object)
    late.loc[15000, "c1"] = "oops"
    late.to_csv(tmp_path / "late.csv", index=False)
    inf = table.to_pandas()
    inf.loc[3500, "c0"] = np.inf
    inf.to_parquet(tmp_path / "inf.parquet")
    assert main(["fit", "--columns", "c0,c1,c2,c3", str(tmp_path / "train.parquet"),
                 "-o", str(tmp_path / "m.skops")]) == 0
    assert main(["fit", "--method", "unit_norm", str(tmp_path / "train.parquet"),
                 "-o", str(tmp_path / "u.skops")]) == 0
    capsys.readouterr()
    return tmp_path


BAD = {
    "missing column": ["fit", "--columns", "c0,nope", "train.parquet", "-o", "OUT.skops"],
    "non-numeric column": ["fit", "--columns", "c0,label", "train.parquet", "-o", "OUT.skops"],
    "empty parquet": ["fit", "empty.parquet", "-o", "OUT.skops"],
    "empty csv": ["fit", "empty.csv", "-o", "OUT.skops"],
    "no such file": ["fit", "nowhere.parquet", "-o", "OUT.skops"],
    "not parquet": ["fit", "junk.parquet", "-o", "OUT.skops"],
    "a folder": ["fit", "--format", "csv", ".", "-o", "OUT.skops"],
    "unknown extension": ["fit", "train.txt", "-o", "OUT.skops"],
    "unknown method": ["fit", "--method", "zcore", "train.parquet", "-o", "OUT.skops"],
    "unknown parameter": ["fit", "--param", "dof=1", "train.parquet", "-o", "OUT.skops"],
    "bad parameter value": ["fit", "--param", "ddof=-1", "train.parquet", "-o", "OUT.skops"],
    "malformed parameter": ["fit", "--param", "ddof", "train.parquet", "-o", "OUT.skops"],
    "layout that does not fit": ["fit", "--method", "instance_norm", "--param", "n_channels=3",
                                 "train.parquet", "-o", "OUT.skops"],
    "fitted on other columns": ["transform", "m.skops", "other.parquet", "-o", "OUT.parquet"],
    "not a model": ["transform", "train.parquet", "train.parquet", "-o", "OUT.parquet"],
    "no such model": ["transform", "none.skops", "train.parquet", "-o", "OUT.parquet"],
    "no output folder": ["transform", "m.skops", "train.parquet", "-o", "no/OUT.parquet"],
    "text late in the file": ["transform", "--chunk-rows", "1000", "m.skops", "late.csv",
                              "-o", "OUT.csv"],
    "infinity late in the file": ["transform", "--chunk-rows", "1000", "m.skops", "inf.parquet",
                                  "-o", "OUT.parquet"],
    "per-sample inverse without stats": ["inverse", "u.skops", "train.parquet", "-o", "OUT.parquet"],
    "keep-stats of a column method": ["transform", "--keep-stats", "m.skops", "train.parquet",
                                      "-o", "OUT.parquet"],
    "missing argument": ["transform", "m.skops", "train.parquet"],
    "bad chunk rows": ["transform", "--chunk-rows", "0", "m.skops", "train.parquet",
                       "-o", "OUT.parquet"],
}


@pytest.mark.parametrize("argv", list(BAD.values()), ids=list(BAD))
def test_bad_input_gives_one_line_and_no_output(argv, files, capsys):
    before = sorted(os.listdir(files))
    status, out, err = run(capsys, *(str(files / a) if a.endswith(
        (".parquet", ".csv", ".skops", ".txt")) or a == "." else a for a in argv))
    assert status == 2
    assert err.startswith("skscale: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and out == ""
    assert sorted(os.listdir(files)) == before  # no output, no temporary file left behind


def test_a_failed_run_leaves_an_existing_output_as_it_was(files, capsys):
    out = files / "out.csv"
    out.write_text("precious\n")
    status, _, err = run(capsys, "transform", "--chunk-rows", 1000, files / "m.skops",
                         files / "late.csv", "-o", out)
    assert status == 2 and "oops" in err
    assert out.read_text() == "precious\n"


def test_errors_count_rows_in_the_file(files, capsys):
    # the estimator saw rows 3000..3999 as its rows 0..999
    status, _, err = run(capsys, "transform", "--chunk-rows", 1000, files / "m.skops",
                         files / "inf.parquet", "-o", files / "out.parquet")
    assert status == 2 and "infinity" in err and "'c0' at row 3500;" in err


def test_the_installed_console_script(table_and_oracle, tmp_path):
    script = Path(sys.executable).with_name("skscale")  # made by pip install -e .
    assert script.exists()
    table, X = table_and_oracle
    data = write(table, tmp_path / "train.parquet")

    def call(*argv):
        return subprocess.run([str(script), *map(str, argv)], capture_output=True, text=True,
                              timeout=120)

    # (two calls: each pays a fresh process's imports, seconds on a busy machine)
    done = call("fit", "--method", "minmax", data, "-o", tmp_path / "m.skops")
    assert (done.returncode, done.stderr) == (
        0, "skscale: note: column 'label' left out: it holds text (string), not numbers\n")
    assert type(models.load_model(str(tmp_path / "m.skops"), options.build_parser().parse_args(
        ["info", "m.skops"]))).__name__ == "MinMaxScaler"
    bad = call("transform", tmp_path / "m.skops", data, "-o", tmp_path / "o.txt")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert bad.stderr.startswith("skscale: error: ") and not (tmp_path / "o.txt").exists()


def test_auto_decides_on_a_sample_of_every_chunk_and_info_shows_why(table_and_oracle, tmp_path,
                                                                    capsys):
    from skscale import AutoScaler

    table, X = table_and_oracle
    data = write(table, tmp_path / "train.parquet")
    model, out = tmp_path / "m.skops", tmp_path / "out.parquet"
    assert run(capsys, "fit", "--method", "auto", "--chunk-rows", CHUNK, data, "-o", model)[0] == 0
    assert run(capsys, "transform", model, data, "-o", out, "--chunk-rows", CHUNK)[0] == 0
    oracle = AutoScaler().fit(pd.DataFrame(X, columns=COLUMNS))  # every row in memory
    assert_close(matrix(read(out)), oracle.transform(pd.DataFrame(X, columns=COLUMNS)))
    status, text, _ = run(capsys, "info", model)
    assert status == 0 and text.startswith("method: auto (AutoScaler)")
    assert f"decided on: a uniform sample of {N_ROWS} rows of {N_ROWS}" in text
    for row in oracle.report_.itertuples():
        assert any(line.startswith(row.column) and row.kind in line and row.diagnosis in line
                   and row.reason in line for line in text.splitlines()), row.column


def test_auto_on_a_file_sorted_by_one_column_chooses_as_in_memory(tmp_path, capsys):
    from skscale import AutoScaler

    rng = np.random.default_rng(11)
    n = 6000
    frame = pd.DataFrame({"price": rng.lognormal(7, 1, n), "carat": rng.lognormal(-0.4, 0.5, n),
                          "depth": rng.normal(61, 1.5, n), "table": rng.normal(57, 2, n),
                          "stock": rng.negative_binomial(1, 0.05, n).astype(float)})
    frame = frame.sort_values("price").reset_index(drop=True)  # as a file sorted by price
    data = tmp_path / "sorted.parquet"
    frame.to_parquet(data)
    model = tmp_path / "m.joblib"
    assert run(capsys, "fit", "--method", "auto", "--chunk-rows", 1000, data, "-o", model)[0] == 0
    decided = joblib.load(model).report_
    whole = AutoScaler().fit(frame).report_
    keys = ["column", "kind", "diagnosis", "method", "params"]
    pd.testing.assert_frame_equal(decided[keys], whole[keys])
    first = AutoScaler().fit(frame.iloc[:1000]).report_  # what the first chunk alone says
    assert (first["method"] != whole["method"]).any()
    # a first pass decides; the second fits the chosen methods only, on every row
    fitted = joblib.load(model)
    in_memory = AutoScaler().fit(frame)
    np.testing.assert_allclose(fitted.transform(frame), in_memory.transform(frame), rtol=1e-9,
                               atol=1e-9)
    assert [type(e) for _, chain in fitted.groups_ for e in chain] == \
        [type(e) for _, chain in in_memory.groups_ for e in chain]  # (grouped as fit groups)


# ---------------------------------------------------------------- what fit leaves out, and why

def numbers_with(token, row, n=60_000, seed=7):
    """``a``, ``b``, ``c`` (floats) and ``label`` (text), ``token`` in ``b``
    at ``row``; the oracle's frame (``b`` missing there)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(np.round(rng.normal(size=(n, 3)) * [1, 10, 100], 6), columns=["a", "b", "c"])
    df["label"] = [f"r{i}" for i in range(n)]
    text = df.astype({"b": object})
    text.loc[row, "b"] = token
    df.loc[row, "b"] = np.nan
    return text, df


# row 3 lies in the CSV reader's first block (where it infers the types),
# row 50,000 well beyond it (the file is about 2.5 MB)
@pytest.mark.parametrize("row", [3, 50_000])
@pytest.mark.parametrize("token", ["?", "-", "x", "1,234.5", "true", "\x00"])
def test_fit_names_a_column_it_leaves_out_wherever_the_stray_value_is(token, row, tmp_path,
                                                                      capsys):
    text, df = numbers_with(token, row)
    text.to_csv(tmp_path / "t.csv", index=False)
    model = tmp_path / "m.skops"
    status, _, err = run(capsys, "fit", tmp_path / "t.csv", "-o", model)
    assert status == 0
    shown = token if token != "\x00" else "\x00"
    assert err.splitlines() == [  # (in the file's order)
        f"skscale: note: column 'b' left out: it holds {shown!r} at row {row}, which is not a"
        f" number; if it marks a missing value, pass --na-values {shlex.quote(token)}",
        "skscale: note: column 'label' left out: it holds 'r0' at row 0, which is not a number;"
        " if it marks a missing value, pass --na-values r0"]
    fitted = models.load_model(str(model), options.build_parser().parse_args(["info", "m"]))
    assert list(fitted.feature_names_in_) == ["a", "c"]
    oracle = SCALERS["zscore"]().fit(df[["a", "c"]])
    np.testing.assert_allclose(fitted.mean_, oracle.mean_, rtol=1e-12)


@pytest.mark.parametrize("row", [3, 50_000])
def test_na_values_turn_the_tokens_into_missing_values(row, tmp_path, capsys):
    text, df = numbers_with("?", row)
    text.loc[row + 1, "b"] = "-"
    df.loc[row + 1, "b"] = np.nan
    text.to_csv(tmp_path / "t.csv", index=False)
    model, out = tmp_path / "m.skops", tmp_path / "out.csv"
    assert run(capsys, "fit", "--na-values", "?,-", tmp_path / "t.csv", "-o", model)[0] == 0
    fitted = models.load_model(str(model), options.build_parser().parse_args(["info", "m"]))
    assert list(fitted.feature_names_in_) == ["a", "b", "c"]
    oracle = SCALERS["zscore"]().fit(df[["a", "b", "c"]])  # the tokens are missing: NaN
    np.testing.assert_allclose(fitted.mean_, oracle.mean_, rtol=1e-12)
    assert fitted.n_samples_seen_[1] == len(df) - 2
    assert run(capsys, "transform", "--na-values", "?", "--na-values", "-", model,
               tmp_path / "t.csv", "-o", out)[0] == 0
    scaled = pcsv.read_csv(out)
    assert scaled["b"].null_count == 2 and scaled["b"][row].as_py() is None
    assert_close(matrix(scaled, ["a", "b", "c"]), oracle.transform(df[["a", "b", "c"]]))


@pytest.mark.parametrize("row", [3, 50_000])
@pytest.mark.parametrize("cmd", ["fit --columns", "fit --column", "transform"])
def test_a_stray_value_in_a_column_to_scale_is_an_error_wherever_it_is(cmd, row, tmp_path,
                                                                        capsys):
    text, df = numbers_with("?", row)
    text.to_csv(tmp_path / "t.csv", index=False)
    df.to_csv(tmp_path / "clean.csv", index=False)
    assert run(capsys, "fit", tmp_path / "clean.csv", "-o", tmp_path / "m.skops")[0] == 0
    argv = {"fit --columns": ["fit", "--columns", "a,b", tmp_path / "t.csv", "-o",
                              tmp_path / "n.skops"],
            "fit --column": ["fit", "--column", "b", tmp_path / "t.csv", "-o",
                             tmp_path / "n.skops"],
            "transform": ["transform", tmp_path / "m.skops", tmp_path / "t.csv", "-o",
                          tmp_path / "out.csv"]}[cmd]
    status, out, err = run(capsys, *argv)
    assert (status, out) == (2, "")
    assert err == (f"skscale: error: {str(tmp_path / 't.csv')!r}: column 'b' holds '?' at row"
                   f" {row}, which is not a number; if it marks a missing value, pass"
                   " --na-values '?'\n")
    assert not (tmp_path / "n.skops").exists() and not (tmp_path / "out.csv").exists()


def test_transform_says_which_columns_pass_through_unscaled(tmp_path, capsys):
    text, df = numbers_with("?", 3, n=100)
    text.to_csv(tmp_path / "t.csv", index=False)
    assert run(capsys, "fit", tmp_path / "t.csv", "-o", tmp_path / "m.skops")[0] == 0
    status, _, err = run(capsys, "transform", tmp_path / "m.skops", tmp_path / "t.csv",
                         "-o", tmp_path / "out.csv")
    assert status == 0
    assert err == (f"skscale: note: 2 columns of {str(tmp_path / 't.csv')!r} passed through"
                   " unscaled (not in the model): 'b', 'label'\n")
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    # CSV to CSV: what passes through is written as it was read
    pd.testing.assert_series_equal(out["b"], pd.read_csv(tmp_path / "t.csv", dtype=str,
                                                         keep_default_na=False)["b"])


# ---------------------------------------------------------------- dates, times, categories

def test_dates_times_and_categories_are_never_scaled(tmp_path, capsys):
    # no text column beside them: nothing but their types tells them apart
    df = pd.DataFrame({"x": [1.0, 2.0, 4.0, 8.0],
                       "when": pd.date_range("2024-01-01", periods=4),
                       "took": pd.to_timedelta([1, 2, 3, 4], unit="s"),
                       "grade": pd.Categorical([1, 2, 2, 3])})
    df.to_parquet(tmp_path / "t.parquet")
    status, _, err = run(capsys, "fit", tmp_path / "t.parquet", "-o", tmp_path / "m.skops")
    assert status == 0
    unit = pq.read_schema(tmp_path / "t.parquet").field("when").type.unit
    assert err.splitlines() == [
        f"skscale: note: column 'when' left out: it holds dates or times (timestamp[{unit}]),"
        " not numbers",
        f"skscale: note: column 'took' left out: it holds time spans (duration[{unit}]), not"
        " numbers",
        "skscale: note: column 'grade' left out: it holds categories (a pandas categorical of"
        " int64), not numbers"]
    fitted = models.load_model(str(tmp_path / "m.skops"),
                               options.build_parser().parse_args(["info", "m"]))
    assert list(fitted.feature_names_in_) == ["x"]
    for name in ("when", "took", "grade"):
        status, out, err = run(capsys, "fit", "--columns", f"x,{name}", tmp_path / "t.parquet",
                               "-o", tmp_path / "n.skops")
        assert (status, out) == (2, "") and err.count("\n") == 1
        assert f"column {name!r} holds" in err and "skscale scales numbers only" in err
    df[["when"]].assign(when=df["when"].astype(str)).to_csv(tmp_path / "t.csv", index=False)
    status, _, err = run(capsys, "fit", "--columns", "when", tmp_path / "t.csv",
                         "-o", tmp_path / "n.skops")
    assert status == 2 and "column 'when' holds '2024-01-01' at row 0" in err


# ---------------------------------------------------------------- CSV files as they come

def test_duplicate_column_names_are_named(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("a,b,a,c,c\n1,2,3,4,5\n")
    status, out, err = run(capsys, "fit", tmp_path / "d.csv", "-o", tmp_path / "m.skops")
    assert (status, out) == (2, "") and err.count("\n") == 1
    assert "more than one column named 'a', 'c'" in err


@pytest.mark.parametrize("where", ["header", "first block", "late"])
def test_a_file_in_another_encoding_names_it_and_suggests_encoding(where, tmp_path, capsys):
    rows = ["name,x"] + [f"plain,{i}" for i in range(60_000)]
    at = {"header": 0, "first block": 2, "late": 50_000}[where]
    rows[at] = rows[at].replace("name", "nàme") if at == 0 else f"café,{at}"
    (tmp_path / "l.csv").write_bytes("\n".join(rows).encode("latin-1") + b"\n")
    status, out, err = run(capsys, "transform", "--chunk-rows", 10_000, *_fitted_on_x(tmp_path),
                           tmp_path / "l.csv", "-o", tmp_path / "out.csv")
    assert (status, out) == (2, "") and err.count("\n") == 1
    assert f"cannot read {str(tmp_path / 'l.csv')!r} as utf8 text" in err
    assert "--encoding" in err and not (tmp_path / "out.csv").exists()
    if where != "header":
        assert run(capsys, "transform", "--encoding", "latin-1", *_fitted_on_x(tmp_path),
                   tmp_path / "l.csv", "-o", tmp_path / "out.csv")[0] == 0
        out = pd.read_csv(tmp_path / "out.csv", encoding="utf-8")  # output is UTF-8
        assert out["name"][at - 1] == "café"


def _fitted_on_x(tmp_path):
    pd.DataFrame({"x": np.arange(10.0)}).to_csv(tmp_path / "x.csv", index=False)
    if not (tmp_path / "mx.skops").exists():
        assert main(["fit", str(tmp_path / "x.csv"), "-o", str(tmp_path / "mx.skops")]) == 0
    return [tmp_path / "mx.skops"]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_another_delimiter_is_hinted_and_taken(delimiter, tmp_path, capsys):
    df = pd.DataFrame({"a": [1.5, 2.5, 4.0], "b": [10.0, 20.0, 50.0], "s": ["x", "y", "z"]})
    df.to_csv(tmp_path / "s.csv", index=False, sep=delimiter)
    status, out, err = run(capsys, "fit", tmp_path / "s.csv", "-o", tmp_path / "m.skops")
    assert (status, out) == (2, "") and err.count("\n") == 1
    shown = "'\\t'" if delimiter == "\t" else shlex.quote(delimiter)
    assert f"it looks separated by {shown}: pass --delimiter {shown}" in err
    args = ["--delimiter", "\\t" if delimiter == "\t" else delimiter]
    assert run(capsys, "fit", *args, tmp_path / "s.csv", "-o", tmp_path / "m.skops")[0] == 0
    assert run(capsys, "transform", *args, tmp_path / "m.skops", tmp_path / "s.csv",
               "-o", tmp_path / "o.csv")[0] == 0
    back = pd.read_csv(tmp_path / "o.csv", sep=delimiter)  # written with the same delimiter
    expected = SCALERS["zscore"]().fit(df[["a", "b"]]).transform(df[["a", "b"]])
    np.testing.assert_allclose(back[["a", "b"]].to_numpy(), expected, rtol=1e-15)


def test_a_file_without_a_header_is_caught_and_read_with_no_header(tmp_path, capsys):
    X = np.array([[1.5, 2.0, 3.0], [4.0, 5.5, 6.0], [7.0, 8.0, 9.5], [0.5, 1.0, 2.0]])
    np.savetxt(tmp_path / "n.csv", X, delimiter=",", fmt="%g")
    status, out, err = run(capsys, "fit", tmp_path / "n.csv", "-o", tmp_path / "m.skops")
    assert (status, out) == (2, "") and err.count("\n") == 1
    assert "(1.5, 2, 3) looks like data" in err and "--no-header" in err
    assert run(capsys, "fit", "--no-header", tmp_path / "n.csv", "-o", tmp_path / "m.skops")[0] == 0
    fitted = models.load_model(str(tmp_path / "m.skops"),
                               options.build_parser().parse_args(["info", "m"]))
    assert list(fitted.feature_names_in_) == ["c0", "c1", "c2"]
    assert run(capsys, "transform", "--no-header", tmp_path / "m.skops", tmp_path / "n.csv",
               "-o", tmp_path / "o.csv")[0] == 0
    back = np.loadtxt(tmp_path / "o.csv", delimiter=",")  # no header written either
    np.testing.assert_allclose(back, SCALERS["zscore"]().fit(X).transform(X), rtol=1e-15)
    # names that are numbers, taken as names when the user says so
    (tmp_path / "years.csv").write_text("2023,2024\n1.5,2.5\n3.5,4.5\n")
    assert run(capsys, "fit", "--header", tmp_path / "years.csv",
               "-o", tmp_path / "y.skops")[0] == 0


def test_integers_beyond_2_53_are_refused_never_rounded(tmp_path, capsys):
    big = 2**53 + 1  # float64 would round it to 2**53
    ids = pa.array([1, 2, big, 4], pa.int64())
    pq.write_table(pa.table({"id": ids, "x": [1.0, 2.0, 3.0, 4.0]}), tmp_path / "b.parquet")
    (tmp_path / "b.csv").write_text(f"id,x\n1,1.0\n2,2.0\n{big},3.0\n4,4.0\n")
    for path, value in ((tmp_path / "b.parquet", str(big)), (tmp_path / "b.csv", "about")):
        status, out, err = run(capsys, "fit", path, "-o", tmp_path / "m.skops")
        assert (status, out) == (2, "") and err.count("\n") == 1
        assert f"column 'id' holds the integer {value}" in err and "at row 2" in err
        assert "2**53" in err and not (tmp_path / "m.skops").exists()
    # up to 2**53 every integer is exact
    pq.write_table(pa.table({"id": pa.array([1, 2**53], pa.int64())}), tmp_path / "ok.parquet")
    assert run(capsys, "fit", tmp_path / "ok.parquet", "-o", tmp_path / "m.skops")[0] == 0


def test_column_names_with_commas_can_be_named(tmp_path, capsys):
    df = pd.DataFrame({"a,b": [1.0, 2.0, 4.0], "c": [3.0, 5.0, 9.0], "d": [0.0, 1.0, 0.5]})
    df.to_csv(tmp_path / "t.csv", index=False)
    assert run(capsys, "fit", "--column", "a,b", "--columns", "d", tmp_path / "t.csv",
               "-o", tmp_path / "m.skops")[0] == 0
    fitted = models.load_model(str(tmp_path / "m.skops"),
                               options.build_parser().parse_args(["info", "m"]))
    assert list(fitted.feature_names_in_) == ["d", "a,b"]
    np.testing.assert_allclose(fitted.mean_, df[["d", "a,b"]].mean().to_numpy(), rtol=1e-15)


# ---------------------------------------------------------------- outputs know their model

def test_inverse_checks_the_model_that_made_the_file(table_and_oracle, tmp_path, capsys):
    table, _ = table_and_oracle
    data = write(table, tmp_path / "train.parquet")
    other = write(table.slice(0, 2000), tmp_path / "part.parquet")
    for name, argv in (("z", []), ("mm", ["--method", "minmax"]), ("z2", [])):
        source = other if name == "z2" else data
        assert run(capsys, "fit", *argv, source, "-o", tmp_path / f"{name}.skops")[0] == 0
    out, back = tmp_path / "out.parquet", tmp_path / "back.parquet"
    assert run(capsys, "transform", tmp_path / "z.skops", data, "-o", out)[0] == 0
    record = json.loads(pq.read_schema(out).metadata[b"skscale"])
    assert record["command"] == "transform" and record["method"] == "zscore"
    assert record["columns"] == COLUMNS
    for name, method in (("mm", "minmax"), ("z2", "zscore")):  # another method; another fit
        status, _, err = run(capsys, "inverse", tmp_path / f"{name}.skops", out, "-o", back)
        assert status == 2 and "was scaled by another model (zscore" in err
        assert f"than {str(tmp_path / f'{name}.skops')!r} ({method})" in err
        assert not back.exists()
    # the same fit, saved again as a pickle: the same model
    joblib.dump(models.load_model(str(tmp_path / "z.skops"), options.build_parser().parse_args(
        ["info", "m"])), tmp_path / "z.joblib")
    assert run(capsys, "inverse", "--trust-pickle", tmp_path / "z.joblib", out,
               "-o", back)[0] == 0
    assert json.loads(pq.read_schema(back).metadata[b"skscale"])["command"] == "inverse"
    status, _, err = run(capsys, "inverse", tmp_path / "z.skops", back,
                         "-o", tmp_path / "b2.parquet")
    assert status == 2 and "in original units already" in err
    status, _, err = run(capsys, "transform", tmp_path / "z.skops", out,
                         "-o", tmp_path / "twice.parquet")
    assert status == 2 and "already scaled by this model" in err


# ---------------------------------------------------------------- messages

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numbers_are_shown_in_the_shortest_form_of_their_type(dtype):
    from skscale.cli.commands import number

    assert number(dtype(2.3)) == "2.3" and number(dtype(-0.1)) == "-0.1"
    values = np.random.default_rng(0).normal(size=1000).astype(dtype) * 10.0 ** np.arange(
        -20, 20, 0.04).astype(dtype)
    for v in values:
        text = number(v)
        assert dtype(text) == v  # reads back exactly
        assert len(text.lstrip("-").replace(".", "").lstrip("0")) <= (9 if dtype is np.float32
                                                                      else 17) + 4


def test_help_works_without_pyarrow_and_the_commands_say_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0 and "--trust-pickle" in capsys.readouterr().out
    status, out, err = run(capsys, "info", "m.skops")
    assert (status, out) == (2, "")
    assert err == 'skscale: error: the command line needs pyarrow: pip install "skscale[cli]"\n'
