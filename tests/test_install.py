"""skscale as a user's machine meets it: installed read-only, run by a user who
may write nowhere, with or without numba, and uninstalled without leftovers.

Each case runs in a fresh interpreter on a copy of the package, so what one
process compiled or cached cannot hide what another would meet.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import skscale

PACKAGE = Path(skscale.__file__).parent

# Runs in the child: scale with the compiled loops forced on for a small input
# (so they load and compile), and report where skscale came from and what it gave.
CHILD = textwrap.dedent("""
    import json, sys, warnings
    sys.path.insert(0, sys.argv[1])
    warnings.simplefilter("error")          # a warning would fail the run
    import numpy as np
    import skscale
    from skscale import _compiled
    X = np.arange(40.0).reshape(10, 4) ** 1.5
    with skscale.config_context(compiled=True):
        Xt = skscale.ZScoreScaler().fit_transform(X)
    print(json.dumps({"file": skscale.__file__, "Xt": Xt.tolist(),
                      "compiled": _compiled._load() is not None,
                      "numba": sys.modules.get("numba") is not None, "cache": _compiled.cache_dir()}))
""")


def _copy_package(tmp_path):
    """A copy of the package under ``tmp_path / "site"``, without bytecode."""
    site = tmp_path / "site"
    shutil.copytree(PACKAGE, site / "skscale", ignore=shutil.ignore_patterns("__pycache__"))
    return site


def _read_only(path):
    for root, dirs, files in os.walk(path):
        for name in files:
            os.chmod(os.path.join(root, name), 0o444)
        os.chmod(root, 0o555)


def _run(site, env, as_other_user=False, prelude=""):
    """Run CHILD in a fresh interpreter with ``env``; as root, ``as_other_user``
    runs it as the unprivileged user ``nobody``, who may read the interpreter
    and the packages (wherever they are installed) but write only where
    anybody may."""
    cmd = [sys.executable, "-c", prelude + CHILD, str(site)]
    if as_other_user and os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search", *cmd]
    base = {k: v for k, v in os.environ.items()
            if k not in ("SKSCALE_CACHE_DIR", "NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    done = subprocess.run(cmd, env={**base, "PYTHONDONTWRITEBYTECODE": "1", **env},
                          capture_output=True, text=True, timeout=600, cwd=site)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["file"] == str(site / "skscale" / "__init__.py")
    X = np.arange(40.0).reshape(10, 4) ** 1.5
    np.testing.assert_allclose(result["Xt"], (X - X.mean(0)) / X.std(0), rtol=1e-13)
    return result


def _files(path):
    return sorted(str(p.relative_to(path)) for p in Path(path).rglob("*"))


def test_read_only_install_and_home_as_another_user(tmp_path):
    # A container running as a non-root user: neither the package folder nor
    # $HOME is writable.  numba is installed; skscale must import and work,
    # compiling its loops in the process (there is nowhere to cache them).
    site = _copy_package(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    _read_only(site)
    _read_only(home)
    os.chmod(tmp_path, 0o755)
    before = _files(site)
    result = _run(site, {"HOME": str(home)}, as_other_user=True)
    assert result["compiled"] and result["cache"] is None
    assert _files(site) == before and _files(home) == []


def test_nothing_is_written_into_the_package(tmp_path):
    # numba's default cache sits in the package's __pycache__, which `pip
    # uninstall` leaves behind (it removes only what it installed): the folder
    # would then import as an empty namespace package.  skscale caches in the
    # user cache directory instead.
    site = _copy_package(tmp_path)
    cache = tmp_path / "cache"
    before = _files(site)
    result = _run(site, {"XDG_CACHE_HOME": str(cache)})
    assert result["compiled"] and result["cache"] == str(cache / "skscale")
    assert _files(site) == before
    assert any(name.endswith(".nbi") for name in _files(cache))
    # What a user's later `pip uninstall` does: remove the package's files.
    # Nothing of skscale's is left to import.
    shutil.rmtree(site / "skscale")
    assert not (site / "skscale").exists()


def test_without_numba_the_numpy_kernels_serve(tmp_path):
    site = _copy_package(tmp_path)
    # numba made unimportable, as on an install without the `fast` extra
    result = _run(site, {}, prelude="import sys; sys.modules['numba'] = None\n")
    assert not result["compiled"] and not result["numba"]


@pytest.mark.parametrize("value, expected", [("0", False), ("auto", "auto"), ("1", True)])
def test_the_environment_variable_sets_the_kernels(value, expected):
    code = "import skscale, sys; print(skscale.get_config()['compiled'], 'numba' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "SKSCALE_COMPILED": value}, check=True)
    # importing skscale never imports numba, whatever the setting
    assert done.stdout.split() == [str(expected), "False"]


def test_a_bad_environment_variable_is_refused():
    done = subprocess.run([sys.executable, "-c", "import skscale"], capture_output=True,
                          text=True, env={**os.environ, "SKSCALE_COMPILED": "fast"})
    assert done.returncode != 0 and "SKSCALE_COMPILED='fast': use auto, 1 or 0" in done.stderr
