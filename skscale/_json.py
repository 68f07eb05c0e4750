"""A fitted estimator as plain JSON data, and back: the ``skscale-model`` schema.

:func:`to_dict` walks an estimator's parameters and fitted state and writes
each value by its type, one codec per type (:data:`_CODECS`): JSON's own
types as they are, and every other value as a one-key object that names
its type (``{"ndarray": ...}``, ``{"tuple": ...}``, ...).  Nothing here knows
a method: a new estimator is saved and loaded for free, as long as its
fitted state is made of these types and its class is in the registry.

The fitted state is every public attribute ending in ``_`` and the private ones
its class declares in ``_learned`` (less :data:`_NOT_SAVED`, which are caches
or say where the arrays lived, and less what the class declares in
``_rebuilt``: derived from the rest, which its ``_restored`` builds again).
Floats are written in the shortest form that reads back to the same bits
(``repr``), NaN and infinities as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``, so a round trip is exact.  :func:`from_dict` runs no code from
the data: it builds only the registered classes, through their ``__init__``
(which stores parameters) and ``__setstate__`` (sketches check their digest),
and checks the result with :func:`skscale._persist.check_fitted`.
``docs/persistence.md`` writes the schema down.  This module touches nothing
but the estimators it is given.
"""

import base64
import dataclasses
import math

import numpy as np

from . import _version

#: The name of the format, and the schema versions this version reads.
FORMAT = "skscale-model"
SCHEMA = 1
READS = (1,)

#: Private fitted attributes not saved: a cache (recomputed at the next
#: update) and where a device fit's arrays lived (a loaded model is a host one).
_NOT_SAVED = frozenset({"_learned_with", "_fit_namespace"})

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint64",
           "uint32", "uint16", "uint8", "bool")


def classes():
    """``{name: class}`` of every class a model file may name: the
    estimators of :data:`skscale.SCALERS`, ``Scaler`` and ``AutoScaler``,
    found among the loaded subclasses of scikit-learn's ``BaseEstimator``
    (the skeletons they share, marked ``_skeleton``, left out).  A model's
    own class is loaded by the time its ``from_dict`` runs, and the classes
    that hold others (``Scaler``, ``AutoScaler``) load every method;
    :func:`skscale.io.load_json` loads them all first."""
    from sklearn.base import BaseEstimator

    found, todo = {}, [BaseEstimator]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if (sub.__module__.startswith("skscale.") and not sub.__name__.startswith("_")
                    and not sub.__dict__.get("_skeleton", False)):
                found[sub.__name__] = sub
    return found


def _objects():
    """``{name: class}`` of the other objects fitted state may hold."""
    from ._lambdas import LambdaStats
    from ._quantiles import Sketches
    from ._ranks import Ranks
    from ._stats import ColumnStats

    return {"ColumnStats": ColumnStats, "Sketches": Sketches, "Ranks": Ranks,
            "LambdaStats": LambdaStats}


def saved_state(est):
    """The names of ``est``'s fitted attributes that a model file holds."""
    private = set(getattr(type(est), "_learned", ())) - _NOT_SAVED
    private -= set(getattr(type(est), "_rebuilt", ()))
    return [k for k in vars(est)
            if (k.endswith("_") and not k.startswith("_")) or k in private
            or k == "_sklearn_output_config"]


def to_dict(est):
    """``est`` (fitted or not) as a dict of JSON types; see the module."""
    from ._array_api import fitted_on_host

    params = est.get_params(deep=False)
    with fitted_on_host(est, None):  # (arrays on a device are read on the host)
        fitted = {k: encode(getattr(est, k)) for k in saved_state(est)}
    return {"format": FORMAT, "schema": SCHEMA, "skscale": _version.__version__,
            "class": type(est).__name__,
            "params": {k: encode(v) for k, v in params.items()},
            "fitted": fitted}


def encode(value):
    """One value as JSON types (see the module)."""
    if isinstance(value, np.ndarray):
        return {"ndarray": _array(value)}
    if isinstance(value, np.generic):  # (before float: np.float64 is one)
        dtype = _dtype_name(value.dtype)
        return {"scalar": {"dtype": dtype, "value": _number(value.item())}}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": _word(value)}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(value).decode("ascii")}
    if type(value).__name__ in classes() and type(value) is classes()[type(value).__name__]:
        return {"estimator": to_dict(value)}
    name = type(value).__name__
    if _objects().get(name) is type(value):
        state = (value.__getstate__() if hasattr(type(value), "__setstate__")
                 else {f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
        return {"object": {"class": name, "state": {k: encode(v) for k, v in state.items()}}}
    raise TypeError(f"cannot write a {type(value).__module__}.{type(value).__qualname__}"
                    " to a skscale model file")


def _word(x):
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def _number(x):
    """A list element: finite floats and ints as they are, others as words."""
    if isinstance(x, float) and not math.isfinite(x):
        return _word(x)
    return x


def _dtype_name(dtype):
    if dtype.kind in "OUS":
        return "str"
    if dtype.name not in _DTYPES:
        raise TypeError(f"cannot write an array of {dtype} to a skscale model file")
    return dtype.name


def _array(a):
    dtype = _dtype_name(a.dtype)
    flat = a.ravel().tolist()
    if dtype == "str":
        if not all(isinstance(v, str) for v in flat):
            raise TypeError("cannot write an array of objects other than strings to a"
                            " skscale model file")
    elif a.dtype.kind == "f":
        flat = [_number(v) for v in flat]
    return {"dtype": dtype, "shape": list(a.shape), "data": flat}


# ------------------------------------------------------------------ reading

class ModelFileError(ValueError):
    """A model file (or dict) that is not one this version reads."""


def from_dict(data, expected=None):
    """The estimator ``data`` describes, fitted as it was; ``expected`` (a
    class) refuses one of another class.  Raises :class:`ModelFileError`
    (a ``ValueError``) saying what is wrong."""
    from ._persist import check_fitted

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelFileError(f"not a skscale model: a model is a JSON object with"
                             f" \"format\": \"{FORMAT}\"")
    schema = data.get("schema")
    if schema not in READS:
        raise ModelFileError(
            f"skscale model schema {schema!r} (written by skscale {data.get('skscale', '?')})"
            f" is not one skscale {_version.__version__} reads ({', '.join(map(str, READS))}):"
            " load it with the version that wrote it, or a newer one")
    unknown = sorted(set(data) - {"format", "schema", "skscale", "class", "params", "fitted"})
    if unknown:
        raise ModelFileError(f"skscale model with unknown fields {unknown}")
    known = classes()
    name = data.get("class")
    if name not in known:
        raise ModelFileError(f"skscale model of unknown class {name!r}; the classes are"
                             f" {', '.join(sorted(known))}")
    cls = known[name]
    if expected is not None and not issubclass(cls, expected):
        raise ModelFileError(f"the model is a {name}, not a {expected.__name__}: load it with"
                             f" {name}.from_dict or skscale.io.load_json")
    params, fitted = data.get("params", {}), data.get("fitted", {})
    if not isinstance(params, dict) or not isinstance(fitted, dict):
        raise ModelFileError(f"damaged {name} model: params and fitted must be JSON objects")
    takes = cls._get_param_names()
    if set(params) - set(takes):
        raise ModelFileError(f"damaged {name} model: {name} has no parameter"
                             f" {sorted(set(params) - set(takes))[0]!r}")
    est = cls(**{k: decode(v, f"{name}.{k}") for k, v in params.items()})
    est._validate_params()
    allowed = set(getattr(cls, "_learned", ())) - _NOT_SAVED | {"_sklearn_output_config"}
    for key, value in fitted.items():
        if not (key.endswith("_") and not key.startswith("_") and key.isidentifier()
                and key not in takes and not hasattr(cls, key)) and key not in allowed:
            raise ModelFileError(f"damaged {name} model: {key!r} is not fitted state of {name}")
        setattr(est, key, decode(value, f"{name}.{key}"))
    try:
        est._restored()
        check_fitted(est)
    except ValueError as err:  # (DamagedState, or a layout its parameters refuse)
        raise ModelFileError(str(err)) from None
    return est


def decode(value, where):
    """One value from JSON types (see :func:`encode`); ``where`` names it
    in errors."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, list):
        return [decode(v, where) for v in value]
    if not isinstance(value, dict) or len(value) != 1:
        raise ModelFileError(f"damaged model: {where} is not a value skscale writes")
    (tag, body), = value.items()
    try:
        if tag == "float":
            return _NON_FINITE[body]
        if tag == "tuple":
            return tuple(decode(v, where) for v in body)
        if tag == "dict":
            return {_hashable(decode(k, where)): decode(v, where) for k, v in body}
        if tag == "ndarray":
            return _from_array(body)
        if tag == "scalar":
            return np.dtype(_check_dtype(body["dtype"])).type(_element(body["value"]))
        if tag == "bytes":
            return base64.b64decode(body.encode("ascii"), validate=True)
        if tag == "estimator":
            return from_dict(body)
        if tag == "object":
            return _from_object(body, where)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ModelFileError(f"damaged model: {where} ({tag}) cannot be read: {err}") from None
    raise ModelFileError(f"damaged model: {where} has unknown type {tag!r}")


def _hashable(key):
    if isinstance(key, list):
        raise TypeError("a list cannot be a key")
    return key


def _check_dtype(name):
    if name not in _DTYPES:
        raise ValueError(f"unknown dtype {name!r}")
    return name


def _element(v):
    return _NON_FINITE[v] if isinstance(v, str) else v


def _from_array(body):
    dtype, shape, flat = body["dtype"], tuple(body["shape"]), body["data"]
    if not all(isinstance(n, int) and n >= 0 for n in shape) or math.prod(shape) != len(flat):
        raise ValueError(f"shape {list(shape)} does not hold {len(flat)} values")
    if dtype == "str":
        if not all(isinstance(v, str) for v in flat):
            raise ValueError("an array of strings holds something else")
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out.reshape(shape)
    _check_dtype(dtype)
    if dtype != "bool" and any(isinstance(v, bool) for v in flat):
        raise ValueError("numbers expected, not true or false")
    values = [_element(v) if dtype.startswith("float") else v for v in flat]
    if not all(isinstance(v, (int, float)) for v in values):
        raise ValueError("numbers expected")
    # (float64 first: a float32 value written as its float64 digits reads back exactly)
    wide = np.float64 if dtype.startswith("float") else dtype
    return np.array(values, dtype=wide).astype(dtype, copy=False).reshape(shape)


def _from_object(body, where):
    name, state = body["class"], body["state"]
    cls = _objects().get(name)
    if cls is None:
        raise ModelFileError(f"damaged model: {where} holds an object of unknown class"
                             f" {name!r}")
    state = {k: decode(v, f"{where}.{k}") for k, v in state.items()}
    if hasattr(cls, "__setstate__") and not dataclasses.is_dataclass(cls):
        obj = cls.__new__(cls)
        obj.__setstate__(state)  # (checks what it is given)
        return obj
    names = {f.name for f in dataclasses.fields(cls)}
    if set(state) != names:
        raise ModelFileError(f"damaged model: {where} ({name}) must hold the fields"
                             f" {sorted(names)}")
    return cls(**state)
