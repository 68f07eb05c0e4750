"""skscale beside processes and threads: a forked child works after its
parent scaled large data, and the results do not depend on how many threads
computed them."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from skscale import RobustScaler, ZScoreScaler, _blocks

# The parent scales data large enough for the thread pool (and, compiled, for
# numba's parallel loops); then a forked child scales again.  Before the
# child can use them, the parent's pool threads and numba's OpenMP runtime
# are gone: a child that inherits them hangs or is killed.
FORKED = textwrap.dedent("""
    import multiprocessing, os, sys
    import numpy as np
    import skscale

    skscale.set_config(compiled=sys.argv[1] == "compiled")
    X = np.random.default_rng(0).random((20000, 50))
    expected = skscale.ZScoreScaler().fit_transform(X)
    skscale.GroupNormScaler(5).fit_transform(X)

    def work(seed):
        Y = skscale.ZScoreScaler().fit_transform(X)
        skscale.LogScaler().fit_transform(X)
        skscale.GroupNormScaler(5).fit_transform(X)
        return bool((Y == expected).all())

    if sys.argv[2] == "fork":
        pid = os.fork()
        if pid == 0:
            os._exit(0 if work(0) else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
    else:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            assert all(pool.map(work, range(4)))
    print("ok")
""")


@pytest.mark.parametrize("kernels", ["numpy", "compiled"])
@pytest.mark.parametrize("how", ["fork", "pool"])
def test_a_forked_child_scales_after_its_parent_did(kernels, how):
    done = subprocess.run([sys.executable, "-c", FORKED, kernels, how], capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


@pytest.mark.usefixtures("kernels")
@pytest.mark.parametrize("cls", [ZScoreScaler, RobustScaler])
def test_fitted_bits_do_not_depend_on_the_number_of_threads(cls, monkeypatch):
    # Several row blocks, an odd count of them: any thread count splits them
    # unevenly.  The statistics must be merged from the same blocks in the
    # same order whatever the threads.
    X = np.random.default_rng(1).normal(1e3, 1.0, size=(5 * _blocks.block_rows(20) + 7, 20))
    def fitted():
        est = cls().fit(X)
        return np.concatenate([est.center_ if cls is RobustScaler else est.mean_, est.scale_])

    results = []
    for n_threads in (1, 2, 3, 8):
        with monkeypatch.context() as patch:
            patch.setattr(_blocks, "n_threads", lambda n=n_threads: n)
            results.append(fitted())
    with threadpool_limits(1):  # as a user limits threads
        results.append(fitted())
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])
