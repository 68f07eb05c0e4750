"""Files written by earlier releases keep loading, and transform as they did.

``tests/data/saved/<version>/`` holds every estimator fitted and saved with
joblib and skops by that release (``tests/data/make_saved.py``), and what its
transform gave a fixed set of rows.  Today's code must load each file and
give those outputs: bit for bit where no logarithm is taken (the affine
kernels are the same float64 operations on every machine), and within the
accuracy of ``log1p`` where one is (numpy's differs in the last bit between
CPUs).
"""

import pathlib
import sys
import warnings

import joblib
import numpy as np
import pytest

import skscale
from skscale import io

sys.path.insert(0, str(pathlib.Path(__file__).parent / "data"))
import make_saved  # noqa: E402

SAVED = pathlib.Path(__file__).parent / "data" / "saved"
FILES = sorted(p for p in SAVED.glob("*/*") if p.suffix in (".joblib", ".skops"))
#: Methods whose transform takes a logarithm (AutoScaler may choose one).
LOGARITHMIC = ("log", "auto")


def _load(path):
    with warnings.catch_warnings():
        # (a file of another release warns, naming both versions: expected here)
        warnings.simplefilter("ignore", io.InconsistentVersionWarning)
        return joblib.load(path) if path.suffix == ".joblib" else io.load(path)


def test_every_release_file_is_here():
    for version in (p.name for p in SAVED.iterdir()):
        names = {p.stem for p in FILES if p.parent.name == version}
        assert names == {f"{n}-{k}" for n in make_saved.ESTIMATORS for k in ("array", "frame")}


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_a_saved_file_loads_and_transforms_as_it_did(path):
    name, kind = path.stem.rsplit("-", 1)
    est = _load(path)
    fresh = make_saved.ESTIMATORS[name]()
    assert type(est) is type(fresh)
    X = make_saved.train()
    new = make_saved.new_rows(X)
    data = make_saved.frame(new) if kind == "frame" else new
    with skscale.config_context(compiled=False):  # the kernels that wrote the outputs
        got = np.asarray(est.transform(data))
    with np.load(path.parent / "transforms.npz") as saved:
        want = saved[path.stem]
    if name.startswith(LOGARITHMIC):
        # an ulp or two of a logarithm, then (AutoScaler) divided by its spread
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    else:
        np.testing.assert_array_equal(got, want)
    # and it carries on: another call, a refit to the same rows
    if hasattr(est, "inverse_transform") and not hasattr(est, "sample_stats"):
        back = np.asarray(est.inverse_transform(np.asarray(got)))
        np.testing.assert_allclose(back, new, rtol=1e-9, atol=1e-9)
