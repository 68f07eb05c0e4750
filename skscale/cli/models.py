"""Fitted scalers in files: which method a name means, its parameters,
saving and loading models, and which files may be loaded at all.

It may touch the model files named on the command line.  It knows the
methods only through :mod:`skscale._registry` and ``Scaler``'s ``METHODS``,
and what a method learned only through the estimator's own attributes.

A model is a skops file (``.skops``: loaded by :func:`skscale.io.load`, which
runs no code from the file), a JSON file (``.json``: the ``skscale-model``
schema, :func:`skscale.io.load_json`, which runs none either) or a joblib
pickle (``.joblib``, ``.pkl``, ``.pickle``: loading one runs whatever code it
holds, so it is refused unless the user passes ``--trust-pickle``).  Any
other extension needs ``--format``.
"""

import ast
import dataclasses
import difflib
import hashlib
import io as _io
import os

import numpy as np

from .errors import CLIError
from .options import STATS_PREFIX, formats
from .outputs import output

MODEL_FORMATS = {".skops": "skops", ".json": "json", ".joblib": "joblib", ".pkl": "joblib",
                 ".pickle": "joblib"}
_ZIP = b"PK\x03\x04"


def model_format(path, args):
    """The model format of ``path``: ``--format``, else its extension; any
    other extension is refused rather than guessed."""
    fmt = formats(args)[1] or MODEL_FORMATS.get(os.path.splitext(path)[1].lower())
    if fmt is None:
        raise CLIError(f"cannot tell the model format of {path!r} from its extension: name it"
                       " .skops or .json (both load safely) or .joblib (a pickle), or pass"
                       " --format skops, json or joblib")
    return fmt


def method_class(name):
    from .._registry import suggest
    from .._scaler import METHODS  # the methods, and "auto"

    if name not in METHODS:
        hint = suggest(name, METHODS)
        raise CLIError(f"unknown method {name!r}; the methods are {', '.join(METHODS)}"
                       + (f". {hint}" if hint else ""))
    return METHODS[name]


def method_name(est):
    from .._registry import name_of
    from .._scaler import METHODS

    return name_of(est, METHODS)


def parse_params(items, cls):
    """``--param k=v`` as keyword arguments: each value a Python literal
    (``(-1, 1)``, ``None``, ``0.1``), or else a string (``norm=l1``)."""
    takes = cls._get_param_names()
    params = {}
    for item in items or ():
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise CLIError(f"--param takes name=value, got {item!r}")
        if key not in takes:
            close = difflib.get_close_matches(key, takes, n=1)
            raise CLIError(f"{cls.__name__} has no parameter {key!r}"
                           + (f"; did you mean {close[0]!r}?" if close else "")
                           + f" Its parameters: {', '.join(takes)}")
        try:
            params[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            params[key] = text
    est = cls(**params)
    est._validate_params()  # a bad value fails before any data is read
    return est


def save_model(est, path, fmt):
    """Write ``est`` to ``path`` in ``fmt``, whole or not at all."""
    import joblib

    from .. import io

    with output(path) as sink:
        if fmt == "json":
            text = _io.StringIO()
            io.dump_json(est, text)
            data = (text.getvalue() + "\n").encode("utf-8")
            if isinstance(sink, str):
                with open(sink, "wb") as f:
                    f.write(data)
            else:
                sink.write(data)
        elif isinstance(sink, str):
            (joblib.dump if fmt == "joblib" else io.dump)(est, sink)
        else:  # a stream: the zip writer and joblib want a file they can seek
            buffer = _io.BytesIO()
            (joblib.dump if fmt == "joblib" else io.dump)(est, buffer)
            sink.write(buffer.getvalue())


def load_model(path, args):
    """A fitted skscale scaler with column names, checked as it loads.

    A skops file goes through :func:`skscale.io.load`, a JSON file through
    :func:`skscale.io.load_json`; a pickle only with ``--trust-pickle``, and
    otherwise is not opened at all.
    """
    from .._scaler import METHODS

    if os.path.isdir(path):
        raise CLIError(f"cannot read {path!r}: it is a folder")
    if not os.path.exists(path):
        raise CLIError(f"cannot read {path!r}: no such file")
    fmt = model_format(path, args)
    if fmt == "joblib" and not args.trust_pickle:
        raise CLIError(f"{path!r} is a pickle (joblib), and loading a pickle runs any code it"
                       " holds: pass --trust-pickle to load it if you trust whoever wrote it, or"
                       " save models as .skops, which load safely")
    with open(path, "rb") as f:
        if os.path.isfile(path):
            source, head = path, f.read(4)
        else:  # a pipe (<(...), /dev/stdin): read once, into memory
            source = _io.BytesIO(f.read())
            head = source.getvalue()[:4]
    if fmt == "json" and (head[:1] == b"\x80" or head == _ZIP):
        what = "a pickle" if head[:1] == b"\x80" else "a zip archive (a skops file?)"
        raise CLIError(f"cannot load {path!r}: it is {what}, not JSON text")
    if fmt == "skops" and head != _ZIP:
        what = "a pickle" if head[:1] == b"\x80" else "not a skops file (a zip archive)"
        raise CLIError(f"cannot load {path!r}: it is {what}"
                       + ("; if you trust it, pass --format joblib --trust-pickle"
                          if head[:1] == b"\x80" else ""))
    est = _load(source, fmt, path)
    if type(est) not in METHODS.values():
        raise CLIError(f"{path!r} holds a {type(est).__name__}, not a scaler that"
                       " 'skscale fit' writes")
    if not hasattr(est, "feature_names_in_"):
        raise CLIError(f"the scaler in {path!r} was fitted without column names; fit it"
                       " with 'skscale fit', or in Python on a DataFrame")
    return est


def _load(source, fmt, path):
    from .. import io
    from .._persist import DamagedState

    try:
        if fmt == "joblib":
            import joblib

            return joblib.load(source)
        if fmt == "json":
            if not isinstance(source, str):
                source = _io.TextIOWrapper(source, encoding="utf-8")
            return io.load_json(source)
        return io.load(source)
    except ImportError:
        raise
    except DamagedState as err:
        raise CLIError(f"cannot load {path!r}: {err}") from None
    except ValueError as err:
        if fmt in ("skops", "json"):  # skscale.io's own words, naming the file where it has one
            raise CLIError(str(err).replace("the file", repr(path), 1)) from None
        raise _damaged(path, err) from None
    except TypeError as err:
        if fmt == "skops":  # types that skscale does not load
            raise CLIError(f"cannot load {path!r}: {err}") from None
        raise _damaged(path, err) from None
    except Exception as err:  # a wrong or damaged file can fail in many ways
        raise _damaged(path, err) from None


def _damaged(path, err):
    return CLIError(f"cannot load {path!r}: it is not a skscale model, or the file is damaged"
                    f" ({type(err).__name__}: {err})")


def is_per_sample(est):
    """Whether ``est`` scales each row by statistics of its own."""
    return hasattr(est, "sample_stats")


def stats_columns(est):
    """Names of the per-sample statistics columns of ``transform --keep-stats``."""
    return [f"{STATS_PREFIX}{name}" for name in est._stats_names()]


def sample_stats_arrays(est, F):
    """``est``'s statistics of each row of ``F``, one array per stats column."""
    stats = est.sample_stats(F)
    if isinstance(stats, tuple):  # (mean, std), each (n_samples, n_groups)
        return [s[:, g] for s in stats for g in range(s.shape[1])]
    return [stats]


def sample_stats_from(arrays):
    """The ``sample_stats`` argument of ``inverse_transform`` from the arrays
    of the stats columns, in :func:`stats_columns`' order."""
    if len(arrays) == 1:
        return arrays[0]
    half = len(arrays) // 2
    return np.column_stack(arrays[:half]), np.column_stack(arrays[half:])


# ---------------------------------------------------------------- provenance

def fingerprint(est):
    """A digest of what ``est`` is: its class, parameters and public fitted
    attributes.  The same fit gives the same digest, whichever file holds it."""
    h = hashlib.sha256()
    _feed(h, est)
    return h.hexdigest()[:16]


def _feed(h, v):
    if isinstance(v, np.ndarray):
        h.update(f"array{v.dtype.str}{v.shape}".encode())
        h.update(repr(v.tolist()).encode() if v.dtype.kind == "O"
                 else np.ascontiguousarray(v).tobytes())
    elif isinstance(v, (bytes, bytearray)):
        h.update(b"bytes%d:" % len(v) + bytes(v))
    elif isinstance(v, dict):
        h.update(b"{")
        for key in sorted(v, key=str):
            _feed(h, str(key))
            _feed(h, v[key])
        h.update(b"}")
    elif isinstance(v, (list, tuple)):
        h.update(b"[")
        for x in v:
            _feed(h, x)
        h.update(b"]")
    elif isinstance(v, np.generic):
        _feed(h, v.item())
    elif hasattr(v, "get_params"):  # an estimator: parameters, public fitted attributes
        h.update(f"{type(v).__module__}.{type(v).__qualname__}".encode())
        _feed(h, v.get_params(deep=False))
        _feed(h, {k: x for k, x in vars(v).items() if k.endswith("_") and not k.startswith("_")})
    elif dataclasses.is_dataclass(v) or hasattr(v, "__dict__"):
        h.update(type(v).__qualname__.encode())
        _feed(h, dict(vars(v)))
    else:
        h.update(f"{type(v).__name__}:{v!r}".encode())


def record(est, command):
    """What a command with ``est`` writes into its output's metadata."""
    from .._version import __version__

    return {"command": command, "method": method_name(est), "model": fingerprint(est),
            "columns": [str(c) for c in est.feature_names_in_], "skscale": __version__}
