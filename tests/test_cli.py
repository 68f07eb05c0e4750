"""The ``skscale`` command line against the estimators run in memory.

Every method is fitted and applied through ``main([...])`` on Parquet and CSV
files several times the chunk size, with NaN, nulls, an integer column and a
string column that passes through; the output must equal ``fit(X)`` then
``transform(X)`` on the whole array.  Bad commands and files must give one
line on stderr, a non-zero status and no output file.
"""

import os
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
from skscale import cli
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
PER_SAMPLE = {"unit_norm", "layer_norm", "instance_norm", "group_norm"}
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
    assert (status, err) == (0, "")
    keep = ["--keep-stats"] if method in PER_SAMPLE else []
    assert run(capsys, "transform", model, data, "-o", out, *chunk, *keep)[0] == 0

    oracle = SCALERS[method](**params).fit(X)
    scaled = read(out)
    assert_close(matrix(scaled), oracle.transform(X), RTOL.get(method, 1e-12))
    assert_same_column(scaled["label"], table["label"])
    expected_names = table.column_names + (cli.stats_columns(oracle) if keep else [])
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
    fitted = cli.load_model(str(model), cli.build_parser().parse_args(["info", str(model)]))
    oracle = SCALERS["batch_norm"](batch_size=100).fit(X)
    assert fitted.num_batches_tracked_ == oracle.num_batches_tracked_ == 20
    np.testing.assert_allclose(fitted.running_mean_, oracle.running_mean_, rtol=1e-12)
    np.testing.assert_allclose(fitted.running_var_, oracle.running_var_, rtol=1e-12)


@pytest.mark.parametrize("sizes", [[5], [3, 4], [100], [99], [101], [64, 37, 1], [1, 1, 1]])
def test_minibatches_cut_rows_as_batch_norm_fit_does(sizes):
    total = sum(sizes)
    cut = list(cli.minibatches(iter(np.split(np.arange(total), np.cumsum(sizes)[:-1])), 32))
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
    assert run(capsys, "transform", model, data, "-o", out, *how[2:])[0] == 0
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
    assert run(capsys, "fit", data, "-o", model)[2] == ""  # stderr is no terminal here
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(cli, "PROGRESS_DELAY", 0)
    status, _, err = run(capsys, "transform", model, data, "-o", tmp_path / "o.parquet",
                         "--chunk-rows", 1000)
    assert status == 0 and "rows" in err and "train.parquet" in err
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
    assert (done.returncode, done.stderr) == (0, "")
    assert type(cli.load_model(str(tmp_path / "m.skops"), cli.build_parser().parse_args(
        ["info", "m.skops"]))).__name__ == "MinMaxScaler"
    bad = call("transform", tmp_path / "m.skops", data, "-o", tmp_path / "o.txt")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert bad.stderr.startswith("skscale: error: ") and not (tmp_path / "o.txt").exists()


def test_auto_decides_on_the_first_chunk_and_info_shows_why(table_and_oracle, tmp_path, capsys):
    from skscale import AutoScaler

    table, X = table_and_oracle
    data = write(table, tmp_path / "train.parquet")
    model, out = tmp_path / "m.skops", tmp_path / "out.parquet"
    assert run(capsys, "fit", "--method", "auto", "--chunk-rows", CHUNK, data, "-o", model)[0] == 0
    assert run(capsys, "transform", model, data, "-o", out, "--chunk-rows", CHUNK)[0] == 0
    oracle = AutoScaler()  # the same batches in memory: decided on the first
    for i in range(0, N_ROWS, CHUNK):
        oracle.partial_fit(pd.DataFrame(X[i:i + CHUNK], columns=COLUMNS))
    assert_close(matrix(read(out)), oracle.transform(pd.DataFrame(X, columns=COLUMNS)))
    status, text, _ = run(capsys, "info", model)
    assert status == 0 and text.startswith("method: auto (AutoScaler)")
    for row in oracle.report_.itertuples():
        assert any(line.startswith(row.column) and row.diagnosis in line and row.reason in line
                   for line in text.splitlines()), row.column
