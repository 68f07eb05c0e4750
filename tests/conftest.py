import os

# scikit-learn's estimator checks include array-API input checks (with plain
# numpy for estimators without array-API support) that only run when SciPy's
# array-API mode is on, which must be set before SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# CI explores the same hypothesis examples on every run, so that a red CI
# always means a change, never a newly drawn example; locally, examples vary.
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


import pytest  # noqa: E402

from skscale import _compiled, _config  # noqa: E402


@pytest.fixture(params=[False, True], ids=["numpy", "compiled"])
def kernels(request, monkeypatch):
    """Run the test on the numpy kernels, then on the compiled loops (forced).
    numba is a test dependency: without it the second run would test nothing."""
    if request.param:
        assert _compiled._load() is not None, "numba is a test dependency"
    monkeypatch.setitem(_config._CONFIG, "compiled", request.param)
