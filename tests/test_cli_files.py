"""The ``skscale`` command line and the files it reads and writes.

Models: a pickle is never opened without ``--trust-pickle`` (a crafted one
that would write a marker file must leave no marker); a damaged, inflating or
foreign model is refused with one clear line.  Outputs: never an input, never
half-written, written through to stdout, FIFOs and devices, through symbolic
links, with their permissions kept; a signal removes the temporary file and
ends the run with 128 + its number; a closed pipe ends it quietly.
"""

import io
import os
import pickle
import re
import signal
import stat
import subprocess
import sys
import threading
import zipfile

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
import skops.io as sio

import skscale
from skscale import SCALERS
from skscale.cli import main, outputs


def run(capsys, *argv):
    """``main(argv)``; returns (status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def one_error(status, out, err):
    """The failure the command line promises: status 2, one line, no traceback."""
    assert status == 2, err
    assert err.startswith("skscale: error: ") and err.count("\n") == 1, err
    assert out == "" and "Traceback" not in err
    return err


def command(*argv):
    """The command line in a fresh process, as the console script runs it."""
    return [sys.executable, "-m", "skscale.cli", *map(str, argv)]


@pytest.fixture()
def folder(tmp_path, capsys):
    """A training CSV (a text column too), a model fitted on it and its output."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    df["name"] = [f"n{i}" for i in range(300)]
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_parquet(tmp_path / "t.parquet", index=False)
    assert main(["fit", str(tmp_path / "t.csv"), "-o", str(tmp_path / "m.skops")]) == 0
    assert main(["transform", str(tmp_path / "m.skops"), str(tmp_path / "t.csv"),
                 "-o", str(tmp_path / "expected.csv")]) == 0
    capsys.readouterr()
    return tmp_path


# ---------------------------------------------------------------- pickles

class _WritesMarker:
    """Unpickling this runs ``open(path, "w")``: any code could run instead."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, "w")


@pytest.mark.parametrize("name, extra", [("m.joblib", []), ("m.pkl", []), ("m.pickle", []),
                                         ("m.model", ["--format", "joblib"])])
@pytest.mark.parametrize("cmd", ["transform", "inverse", "info"])
def test_a_pickle_is_refused_unopened_without_trust_pickle(cmd, name, extra, folder, capsys):
    marker = folder / "marker"
    joblib.dump(_WritesMarker(str(marker)), folder / name)
    args = ["info", folder / name] if cmd == "info" else [
        cmd, folder / name, folder / "t.csv", "-o", folder / "out.csv"]
    err = one_error(*run(capsys, *args, *extra))
    assert "--trust-pickle" in err and "runs any code" in err
    assert not marker.exists()  # nothing of the file ran
    assert not (folder / "out.csv").exists()


def test_a_pickle_named_skops_is_refused_unopened(folder, capsys):
    marker = folder / "marker"
    (folder / "evil.skops").write_bytes(pickle.dumps(_WritesMarker(str(marker))))
    err = one_error(*run(capsys, "info", folder / "evil.skops"))
    assert "it is a pickle" in err and "--trust-pickle" in err
    assert not marker.exists()


def test_trust_pickle_loads_a_real_joblib_model(folder, capsys):
    est = SCALERS["minmax"]().fit(pd.read_csv(folder / "t.csv")[["a", "b", "c"]])
    joblib.dump(est, folder / "m.joblib")
    status, out, _ = run(capsys, "info", "--trust-pickle", folder / "m.joblib")
    assert status == 0 and out.startswith("method: minmax")


@pytest.mark.parametrize("cmd", ["transform", "inverse", "info"])
def test_help_says_pickles_need_trust(cmd, capsys):
    from skscale.cli.options import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args([cmd, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--trust-pickle" in text and "runs any code it holds" in text


# ---------------------------------------------------------------- outputs that are inputs

@pytest.mark.parametrize("how", ["same", "dot", "hard link", "symlink"])
def test_fit_never_writes_over_its_training_data(how, folder, capsys):
    data = folder / "t.csv"
    before = data.read_bytes()
    out = {"same": data, "dot": f"{folder}/./t.csv", "hard link": folder / "h.csv",
           "symlink": folder / "s.csv"}[how]
    if how == "hard link":
        os.link(data, out)
    elif how == "symlink":
        os.symlink(data, out)
    err = one_error(*run(capsys, "fit", data, "-o", out))
    assert "t.csv" in err and "itself" in err
    assert data.read_bytes() == before


@pytest.mark.parametrize("cmd", ["transform", "inverse"])
@pytest.mark.parametrize("target", ["data", "model"])
def test_transform_and_inverse_never_write_over_their_inputs(cmd, target, folder, capsys):
    data, model = folder / "t.csv", folder / "m.skops"
    out = folder / ("o.csv" if target == "model" else "t.csv")
    if target == "model":
        os.link(model, out)  # the same file as the model under a data name
    before = (data.read_bytes(), model.read_bytes())
    one_error(*run(capsys, cmd, model, data, "-o", out))
    assert (data.read_bytes(), model.read_bytes()) == before


@pytest.mark.parametrize("name", ["model.bin", "model", "other.csv"])
def test_a_model_name_needs_a_model_extension_or_format(name, folder, capsys):
    err = one_error(*run(capsys, "fit", folder / "t.csv", "-o", folder / name))
    assert ".skops" in err and "--format" in err
    assert not (folder / name).exists()
    assert run(capsys, "fit", folder / "t.csv", "-o", folder / name, "--format", "skops")[0] == 0
    status, out, _ = run(capsys, "info", folder / name, "--format", "skops")
    assert status == 0 and out.startswith("method: zscore")


# ---------------------------------------------------------------- where outputs go

def test_a_fifo_is_written_through(folder, capsys):
    fifo = folder / "pipe.csv"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    status = main(["transform", str(folder / "m.skops"), str(folder / "t.csv"), "-o", str(fifo)])
    reader.join(timeout=60)
    assert status == 0
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not a regular file
    assert got == [(folder / "expected.csv").read_bytes()]


def test_a_character_device_is_written_through(folder, capsys):
    if os.geteuid() == 0:  # a device node of our own (a copy of /dev/null)
        device = folder / "device.csv"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    else:  # (nobody but root could replace /dev/null)
        device = "/dev/null"
    status, _, err = run(capsys, "transform", "--format", "csv", folder / "m.skops",
                         folder / "t.csv", "-o", device)
    assert status == 0, err
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert not [p for p in os.listdir(folder) if p.endswith(".tmp")]


# /dev/fd/1 takes the same way as /dev/stdout; /dev/stdout itself only where
# a command line that replaced its output by a file could not replace it (not root)
STDOUT_NAMES = ["-", "/dev/fd/1", "/proc/self/fd/1"] + (["/dev/stdout"] if os.geteuid() else [])


@pytest.mark.parametrize("target", STDOUT_NAMES)
def test_stdout_takes_the_output(target, folder):
    done = subprocess.run(command("transform", "--format", "csv", folder / "m.skops",
                                  folder / "t.csv", "-o", target),
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (folder / "expected.csv").read_bytes()


def test_parquet_to_stdout_reads_back(folder):
    done = subprocess.run(command("transform", "--format", "parquet", folder / "m.skops",
                                  folder / "t.parquet", "-o", "-", "-q"),
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = pq.read_table(pa.BufferReader(done.stdout))
    expected = pcsv.read_csv(folder / "expected.csv")
    np.testing.assert_allclose(got["a"].to_numpy(), expected["a"].to_numpy(), rtol=1e-15)


def test_a_symlink_is_written_through_to_its_target(folder, capsys):
    target, link = folder / "real.csv", folder / "link.csv"
    target.write_text("old\n")
    os.symlink(target, link)
    dangling = folder / "dangling.csv"
    os.symlink(folder / "new.csv", dangling)
    for out in (link, dangling):
        assert run(capsys, "transform", folder / "m.skops", folder / "t.csv", "-o", out)[0] == 0
        assert os.path.islink(out)
    expected = (folder / "expected.csv").read_bytes()
    assert target.read_bytes() == expected and (folder / "new.csv").read_bytes() == expected


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_rewriting_an_output_keeps_its_permissions(mode, folder, capsys):
    out, model = folder / "out.csv", folder / "m2.skops"
    for path in (out, model):
        path.write_text("old\n")
        os.chmod(path, mode)
    assert run(capsys, "transform", folder / "m.skops", folder / "t.csv", "-o", out)[0] == 0
    assert run(capsys, "fit", folder / "t.csv", "-o", model)[0] == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == mode
    assert stat.S_IMODE(os.stat(model).st_mode) == mode
    assert out.read_bytes() == (folder / "expected.csv").read_bytes()


def test_stale_temporary_files_of_the_same_output_are_removed(folder, capsys):
    old = folder / ".out.csv.skscale-0123abcd.tmp"
    fresh = folder / ".out.csv.skscale-89abcdef.tmp"
    other = folder / ".other.csv.skscale-0123abcd.tmp"
    for path in (old, fresh, other):
        path.write_text("left by a killed run")
    # (twice the age at which a temporary file counts as left behind)
    long_ago = os.stat(fresh).st_mtime - 2 * outputs.STALE_AFTER
    for path in (old, other):
        os.utime(path, (long_ago, long_ago))
    assert run(capsys, "transform", folder / "m.skops", folder / "t.csv",
               "-o", folder / "out.csv")[0] == 0
    assert not old.exists()
    assert fresh.exists() and other.exists()  # another run's, or another output's


# ---------------------------------------------------------------- signals, pipes

# Runs the command with a pause after its first chunk is written, printing
# "writing" then: the test sends its signal while the temporary file exists.
_PAUSED = """
import sys, time
import pyarrow.parquet as pq
write = pq.ParquetWriter.write_table
def paused(self, *args, **kwargs):
    write(self, *args, **kwargs)
    print("writing", flush=True)
    time.sleep(120)
pq.ParquetWriter.write_table = paused
from skscale.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_removes_the_temporary_file(signum, folder):
    out = folder / "out.parquet"
    proc = subprocess.Popen([sys.executable, "-c", _PAUSED, "transform", "--chunk-rows", "100",
                             str(folder / "m.skops"), str(folder / "t.parquet"), "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "writing\n"
        assert [p for p in os.listdir(folder) if p.startswith(".out.parquet.")]
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum
    assert err == f"skscale: interrupted by {signal.Signals(signum).name}\n"
    assert not [p for p in os.listdir(folder) if p.endswith(".tmp")]
    assert not out.exists()


# Sends itself SIGINT while the command line imports its Parquet and CSV
# readers: Ctrl-C pressed while the command starts.
_CTRL_C_AT_START = """
import os, signal, sys
import skscale  # (the package itself, before the command line starts)
class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "pyarrow.csv":
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, CtrlC())
from skscale.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_while_the_command_starts_prints_one_line(folder):
    done = subprocess.run([sys.executable, "-c", _CTRL_C_AT_START, "info",
                           str(folder / "m.skops")], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (130, "skscale: interrupted by SIGINT\n")


@pytest.mark.parametrize("argv", [["info", "m.skops"],
                                  ["transform", "m.skops", "t.csv", "-o", "-", "--format", "csv"]])
def test_a_closed_pipe_ends_the_run_quietly(argv, folder):
    # as `skscale info m.skops | head -0`: the reader is gone before a line is written
    proc = subprocess.Popen(command(*argv), cwd=folder, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""


# ---------------------------------------------------------------- damaged and foreign models

def _rewrite_zip(src, dst, change):
    """A copy of the zip ``src`` with each member's bytes passed through
    ``change(name, data)`` (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info, data)


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory):
    """A skops file of under 1.1 MB with a member that inflates to 1 GiB."""
    folder = tmp_path_factory.mktemp("bomb")
    est = SCALERS["zscore"]().fit(pd.DataFrame({"a": [1.0, 2.0, 4.0]}))
    sio.dump(est, folder / "m.skops")
    path = folder / "bomb.skops"
    _rewrite_zip(folder / "m.skops", path, lambda name, data: data)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("zeros.npy", "w", force_zip64=True) as member:
            chunk = bytes(2**24)
            for _ in range(64):
                member.write(chunk)
    assert os.path.getsize(path) < 1.1e6
    return path


_PEAK = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
print(done.stderr, end="")
"""


def test_a_model_that_would_inflate_to_a_gigabyte_is_refused_before_inflating(zip_bomb):
    done = subprocess.run([sys.executable, "-c", _PEAK, *command("info", zip_bomb)],
                          capture_output=True, text=True, timeout=300)
    first, err = done.stdout.split("\n", 1)
    status, peak_mib = map(int, first.split())
    assert status == 2 and err.count("\n") == 1
    inflated = int(re.search(r"inflate to ([\d,]+) bytes", err).group(1).replace(",", ""))
    assert inflated > 2**30, err
    assert peak_mib < 900  # the imports alone; 1 GiB more had it inflated


def _damage(folder, est, change):
    """Save ``est`` with skops after ``change(state)`` alters its state."""
    state = est.__getstate__()
    change(state)
    damaged = type(est).__new__(type(est))
    vars(damaged).update({k: v for k, v in state.items() if k != "_skscale_version"})
    path = folder / "damaged.skops"
    with pytest.MonkeyPatch.context() as patch:  # save it as it is, unchecked
        patch.setattr(type(est), "__getstate__",
                      lambda self: {**vars(self), "_skscale_version": skscale.__version__})
        sio.dump(damaged, path)
    return path


@pytest.mark.parametrize("what, change, words", [
    ("a short per-feature array", lambda s: s.update(mean_=s["mean_"][:2]),
     "mean_ has shape (2,), but it was fitted on 3 features"),
    ("text for numbers", lambda s: s.update(scale_=np.array(["1", "2", "3"], dtype=object)),
     "scale_ holds object values, not numbers"),
    ("column statistics of other columns",
     lambda s: setattr(s["stats_"], "mean", np.zeros(4)), "stats_.mean has shape (4,)"),
])
@pytest.mark.parametrize("cmd", ["info", "transform"])
def test_a_model_whose_arrays_disagree_is_refused(cmd, what, change, words, folder, capsys):
    est = SCALERS["zscore"]().fit(pd.read_csv(folder / "t.csv")[["a", "b", "c"]])
    path = _damage(folder, est, change)
    args = ["info", path] if cmd == "info" else ["transform", path, folder / "t.csv", "-o",
                                                 folder / "out.csv"]
    err = one_error(*run(capsys, *args))
    assert "damaged ZScoreScaler" in err and words in err


@pytest.fixture()
def robust_model(folder, capsys):
    """A robust scaler fitted by the command line: it streams into sketches."""
    assert run(capsys, "fit", "--method", "robust", folder / "t.csv",
               "-o", folder / "r.skops")[0] == 0
    return folder / "r.skops"


def test_a_model_with_too_few_sketches_is_refused(robust_model, folder, capsys):
    est = sio.load(robust_model, trusted=sio.get_untrusted_types(file=robust_model))
    assert len(est.sketches_.data) == 3

    def drop_one(state):
        state["sketches_"].data = state["sketches_"].data[:2]

    err = one_error(*run(capsys, "info", _damage(folder, est, drop_one)))
    assert "sketches_ holds 2 columns, but it was fitted on 3 features" in err


def test_damaged_sketch_bytes_are_caught(robust_model, folder, capsys):
    est = sio.load(robust_model, trusted=sio.get_untrusted_types(file=robust_model))
    sketch = est.sketches_.data[0]
    damaged = folder / "damaged.skops"
    # one byte of a sketch flipped in the file, its zip checksum made good again
    _rewrite_zip(robust_model, damaged, lambda name, data: (
        data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0x10]) + data[len(data) // 2 + 1:]
        if data == sketch else data))
    err = one_error(*run(capsys, "info", damaged))
    assert "damaged quantile sketches" in err
    # in a pickle, which has no checksum of its own
    joblib.dump(est, folder / "r.joblib")
    blob = (folder / "r.joblib").read_bytes()
    at = blob.index(sketch) + len(sketch) // 2
    (folder / "r.joblib").write_bytes(blob[:at] + bytes([blob[at] ^ 0x10]) + blob[at + 1:])
    err = one_error(*run(capsys, "info", "--trust-pickle", folder / "r.joblib"))
    assert "damaged quantile sketches" in err


@pytest.mark.parametrize("damage", ["no loader", "truncated", "not a zip", "empty schema"])
def test_a_broken_model_file_gets_a_clear_message(damage, folder, capsys):
    import json

    good, bad = folder / "m.skops", folder / "bad.skops"
    if damage == "no loader":
        def drop(name, data):
            if name != "schema.json":
                return data
            schema = json.loads(data)
            del schema["__loader__"]
            return json.dumps(schema).encode()
        _rewrite_zip(good, bad, drop)
    elif damage == "truncated":
        bad.write_bytes(good.read_bytes()[:-200])
    elif damage == "not a zip":
        bad.write_bytes(b"PK\x03\x04 and then nothing of a zip")
    else:
        _rewrite_zip(good, bad, lambda name, data: b"{}" if name == "schema.json" else data)
    err = one_error(*run(capsys, "info", bad))
    assert f"cannot load {str(bad)!r}: it is not a skops file" in err
    assert "__loader__'" not in err.split("(")[0]  # the cause comes after the words


def test_a_file_of_another_kind_is_not_a_model(folder, capsys):
    from sklearn.preprocessing import StandardScaler

    sio.dump(StandardScaler().fit([[1.0], [2.0]]), folder / "sk.skops")
    err = one_error(*run(capsys, "info", folder / "sk.skops"))
    assert "holds a StandardScaler, not a scaler that 'skscale fit' writes" in err


def test_a_model_goes_through_pipes_both_ways(folder):
    # fit -o - writes the model to stdout; info reads one from a pipe (<(...))
    done = subprocess.run(command("fit", "--format", "skops", folder / "t.csv", "-o", "-",
                                  "-q"), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    model = skscale.io.load(io.BytesIO(done.stdout))
    oracle = SCALERS["zscore"]().fit(pd.read_csv(folder / "t.csv")[["a", "b", "c"]])
    np.testing.assert_allclose(model.mean_, oracle.mean_, rtol=1e-15)
    read, write = os.pipe()
    with os.fdopen(write, "wb") as sink:
        reader = subprocess.Popen(command("info", f"/dev/fd/{read}", "--format", "skops"),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  pass_fds=(read,))
        os.close(read)
        sink.write(done.stdout)
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    assert out.decode().startswith("method: zscore")


def test_data_from_a_pipe_is_refused_with_a_reason(folder, capsys):
    fifo = folder / "in.csv"
    os.mkfifo(fifo)
    err = one_error(*run(capsys, "fit", fifo, "-o", folder / "x.skops"))
    assert "not a regular file" in err
