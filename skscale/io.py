"""Saving and safe loading of skscale estimators: skops files, and JSON.

:func:`dump_json` and :func:`load_json` write and read one estimator as
plain JSON text in the versioned ``skscale-model`` schema (the estimators'
``to_dict`` and ``from_dict``, :mod:`skscale._json`), which any language
reads and which loads without running code.

Loading a pickle can run arbitrary code; skops (the optional ``skops`` extra)
loads only the types that the caller trusts.  :func:`load` trusts exactly
skscale's own types, which skops names by the private modules that define
them, on top of skops' defaults (numpy, scipy and scikit-learn's own).  skops
is imported only when :func:`dump` or :func:`load` is called.

Before skops reads anything, :func:`load` refuses a file whose members would
inflate beyond :data:`MAX_INFLATED` bytes, or beyond :data:`MAX_RATIO` times
the file's own size where that is larger (a "zip bomb"): the sizes come from
the archive's directory, which bounds what the reader inflates.  A file that
is not a skops file, or is damaged, raises one ``ValueError`` that says so.
"""

import json
import os
import zipfile

from ._auto import AutoScaler
from ._lambdas import LambdaStats
from ._persist import DamagedState, InconsistentVersionWarning
from ._quantiles import Sketches
from ._registry import SCALERS
from ._scaler import Scaler
from ._stats import ColumnStats

__all__ = ["InconsistentVersionWarning", "dump", "dump_json", "load", "load_json",
           "trusted_types"]

#: Bytes a skops file may inflate to whatever its size (a fitted scaler of
#: a million columns takes about 40 MB).
MAX_INFLATED = 256 * 2**20
#: How many times its own size a larger file may inflate to (skops stores
#: arrays uncompressed: a real model inflates about 1x).
MAX_RATIO = 20


def _skops_io():
    try:
        import skops.io
    except ImportError as err:
        raise ImportError('skscale.io needs skops: pip install "skscale[skops]"') from err
    return skops.io


def trusted_types():
    """The types skscale's estimators store, as skops names them.

    Every estimator class in :data:`skscale.SCALERS`, :class:`skscale.Scaler`
    and :class:`skscale.AutoScaler` (which store them), :class:`skscale.ColumnStats` (which every
    column scaler stores), the quantile sketches of :class:`skscale.RobustScaler`
    and the rank-based scalers, and the grid statistics of
    :class:`skscale.PowerTransformer`, named ``"module.qualname"``.

    Returns
    -------
    types : list of str
        Sorted fully qualified type names.

    Examples
    --------
    >>> from skscale.io import trusted_types
    >>> "skscale._zscore.ZScoreScaler" in trusted_types()
    True
    """
    classes = {*SCALERS.values(), Scaler, AutoScaler, ColumnStats, Sketches, LambdaStats}
    return sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in classes)


def dump(obj, file):
    """Save ``obj`` (an estimator, a pipeline, ...) in skops' format.

    A thin wrapper of :func:`skops.io.dump`, here so that saving and loading
    read alike.

    Parameters
    ----------
    obj : object
        What to save.
    file : str, path or binary file object
        Where to write it.

    Examples
    --------
    See :func:`load`.
    """
    _skops_io().dump(obj, file)


def load(file, trusted=None):
    """Load a skops file, trusting skscale's own types and nothing else new.

    The types trusted are skops' defaults, :func:`trusted_types` and those
    in ``trusted``.  A file that holds any other type is not loaded.

    Parameters
    ----------
    file : str, path or binary file object
        A file written by :func:`dump` or :func:`skops.io.dump`.
    trusted : list of str or type, default=None
        Further types to trust, e.g. ``["xgboost.sklearn.XGBClassifier"]``,
        after reviewing what :func:`skops.io.get_untrusted_types` reports.

    Returns
    -------
    obj : object
        The loaded object.

    Raises
    ------
    ValueError
        Where the file is not a skops file, is damaged (a fitted array of
        the wrong shape, sketches whose digest does not match), or would
        inflate beyond :data:`MAX_INFLATED` bytes (or :data:`MAX_RATIO`
        times its own size); the message says which, before skops inflates
        anything in the last case.
    skops.io.exceptions.UntrustedTypesFoundException
        Where the file holds types neither skops, skscale nor ``trusted``
        trusts; the message lists them.  It is a ``TypeError``.
    ImportError
        Where skops is not installed.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skscale import ZScoreScaler
    >>> from skscale.io import dump, load
    >>> X, y = [[1.0], [2.0], [3.0], [4.0]], [0, 0, 1, 1]
    >>> pipe = make_pipeline(ZScoreScaler(), LogisticRegression()).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     dump(pipe, os.path.join(folder, "pipe.skops"))
    ...     loaded = load(os.path.join(folder, "pipe.skops"))
    >>> loaded[0].transform([[2.5]])
    array([[0.]])
    """
    sio = _skops_io()
    if isinstance(trusted, (str, type)):
        trusted = [trusted]
    elif isinstance(trusted, bool):  # skops refuses trusted=True (CVE-2024-37065)
        raise TypeError("trusted must be a list of type names or types, not a bool.")
    name = repr(os.fspath(file)) if isinstance(file, (str, os.PathLike)) else "the file"
    _check_inflation(file, name)
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return sio.load(file, trusted=[*trusted_types(), *(trusted or ())])
    except (UntrustedTypesFoundException, ImportError):  # types not trusted; a missing module
        raise
    except DamagedState as err:
        raise ValueError(f"cannot load {name}: {err}") from None
    except Exception as err:  # skops fails in many ways on a file it did not write
        raise ValueError(f"cannot load {name}: it is not a skops file of a skscale model, or"
                         f" it is damaged ({type(err).__name__}: {err})") from None


def _check_inflation(file, name):
    """Refuse a skops file whose members would inflate beyond the bounds."""
    if isinstance(file, (str, os.PathLike)):
        size = os.path.getsize(file)
    else:  # a binary file object, read from where it stands
        at = file.tell()
        size = file.seek(0, os.SEEK_END) - at
        file.seek(at)
    try:
        with zipfile.ZipFile(file) as archive:
            inflated = sum(m.file_size for m in archive.infolist())
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise ValueError(f"cannot load {name}: it is not a skops file (a zip archive): {err}"
                         ) from None
    finally:
        if not isinstance(file, (str, os.PathLike)):
            file.seek(at)
    limit = max(MAX_INFLATED, MAX_RATIO * size)
    if inflated > limit:
        raise ValueError(
            f"cannot load {name}: its members would inflate to {inflated:,} bytes from a file of"
            f" {size:,} bytes; skscale.io loads at most {limit:,} (see skscale.io.MAX_INFLATED)")


def dump_json(estimator, file, *, indent=None):
    """Write one skscale estimator as JSON text (the ``skscale-model`` schema).

    The text holds what :meth:`~skscale.ZScoreScaler.to_dict` returns: the
    class, the parameters, the feature names, the fitted arrays and the
    statistics behind them, floats in the shortest form that reads back to
    the same bits.  ``docs/persistence.md`` describes the schema.

    Parameters
    ----------
    estimator : estimator
        An estimator of :data:`skscale.SCALERS`, a ``Scaler`` or an
        ``AutoScaler``, fitted or not.
    file : str, path or text file object
        Where to write it.
    indent : int, default=None
        Indent the JSON for reading (None: one line, the smallest).

    Examples
    --------
    >>> import io
    >>> from skscale import MinMaxScaler
    >>> from skscale.io import dump_json, load_json
    >>> text = io.StringIO()
    >>> dump_json(MinMaxScaler().fit([[0.0], [10.0]]), text)
    >>> _ = text.seek(0)
    >>> load_json(text).transform([[5.0]])
    array([[0.5]])
    """
    data = estimator.to_dict()
    if isinstance(file, (str, os.PathLike)):
        with open(file, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=indent, allow_nan=False)
            f.write("\n")
    else:
        json.dump(data, file, indent=indent, allow_nan=False)


def load_json(file):
    """Read an estimator that :func:`dump_json` (or ``to_dict``) wrote.

    Loading runs no code from the file: it builds only skscale's estimator
    classes and checks their fitted arrays as :func:`load` does.

    Parameters
    ----------
    file : str, path or text file object
        A JSON model file.

    Returns
    -------
    estimator : estimator
        Fitted as it was saved.

    Raises
    ------
    ValueError
        Where the file is not JSON, not a skscale model, names a class this
        version does not know, has a schema version it does not read, or
        is damaged; the message says which.

    Examples
    --------
    See :func:`dump_json`.
    """
    from . import _json

    name = repr(os.fspath(file)) if isinstance(file, (str, os.PathLike)) else "the file"
    try:
        if isinstance(file, (str, os.PathLike)):
            with open(file, encoding="utf-8") as f:
                data = json.load(f)
        else:
            data = json.load(file)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"cannot load {name}: it is not JSON text ({err})") from None
    try:
        return _json.from_dict(data)
    except _json.ModelFileError as err:
        raise ValueError(f"cannot load {name}: {err}") from None
