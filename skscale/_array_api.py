"""Array API inputs: which namespace and device an array lives on, and how
an estimator's numpy logic serves it.

Under scikit-learn's ``set_config(array_api_dispatch=True)``, an estimator
given an array of another library than numpy (torch tensors, CuPy arrays,
``array_api_strict``) computes on that array's device, in its namespace,
and returns the same namespace, device and dtype.  This module only
dispatches: it tells a namespace and its device (:func:`namespace`), views a
CPU tensor as numpy (:func:`host_view`), moves an estimator's fitted arrays
to the data's device after a fit (:func:`on_device`) and to the host while
its numpy logic runs (:func:`host_attributes`), and refuses data of another
namespace than fit's.  The arithmetic on device arrays is in
:mod:`skscale._device`, whose kernels return plain arrays.  Namespaces are
found with array-api-compat, the library scikit-learn builds on (its
vendored copy where the package is not installed).
"""

from contextlib import contextmanager

import numpy as np
from sklearn import get_config


def _compat():
    try:
        import array_api_compat
    except ImportError:  # scikit-learn's own copy of it
        from sklearn.externals import array_api_compat
    return array_api_compat


class Namespace:
    """The namespace, device and widest float dtype of an array."""

    def __init__(self, X):
        compat = _compat()
        self.xp = compat.array_namespace(X)
        self.device = compat.device(X)
        floats = _floats(self.xp, self.device)
        self.wide = self.xp.float64 if "float64" in floats else self.xp.float32
        self.dtypes = tuple(getattr(self.xp, name) for name in ("float64", "float32", "float16")
                            if name in floats or (name == "float16" and hasattr(self.xp, name)))
        # A tensor in the CPU's memory goes through the numpy kernels on a
        # view of it (no copy either way), and its result comes back as one;
        # a dtype numpy lacks (bfloat16) stays with the device kernels.
        self.host = (compat.is_torch_array(X) and self.device.type == "cpu"
                     and str(X.dtype) != "torch.bfloat16")
        self.key = (self.xp.__name__, str(self.device))

    def back(self, result):
        """``result`` of the numpy kernels (an array or a tuple of them) as
        this namespace's arrays, sharing their memory where it can."""
        if isinstance(result, tuple):
            return tuple(self.back(r) for r in result)
        return self.xp.asarray(result) if isinstance(result, np.ndarray) else result

    def asarray(self, a, dtype=None):
        """``a`` (numpy, a number, or an array of this namespace) on this
        device, as ``dtype`` (default: the widest float)."""
        dtype = self.wide if dtype is None else dtype
        if not isinstance(a, (np.ndarray, np.generic, int, float)):
            return self.xp.astype(a, dtype)  # already here: never through numpy
        a = np.asarray(a)
        if not a.flags.writeable:  # (torch would share, and warn of, read-only memory)
            a = a.copy()
        return self.xp.asarray(a, dtype=dtype, device=self.device)


_FLOATS = {}


def _floats(xp, device):
    """The names of the real float dtypes ``device`` has (asked once per
    namespace and device: some libraries allocate to answer)."""
    key = (xp.__name__, str(device))
    if key not in _FLOATS:
        _FLOATS[key] = tuple(xp.__array_namespace_info__().dtypes(kind="real floating",
                                                                  device=device))
    return _FLOATS[key]


#: Where numpy input (or an estimator fitted on it) lives.
NUMPY = ("numpy", "cpu")


def namespace(X):
    """:class:`Namespace` of ``X`` when array API dispatch is on and ``X`` is
    an array of a library other than numpy (nor a Dask collection, which
    has its own path); else None."""
    if isinstance(X, np.ndarray) or not get_config().get("array_api_dispatch", False):
        return None
    compat = _compat()
    if not compat.is_array_api_obj(X) or compat.is_numpy_array(X) or compat.is_dask_array(X):
        return None
    return Namespace(X)


def host_view(X):
    """A numpy view of the CPU tensor ``X`` (:attr:`Namespace.host`), detached
    from autograd; a copy for a tensor that requires grad, whose own values
    an in-place transform must not change behind autograd's back."""
    view = np.from_dlpack(X.detach())
    return view.copy() if X.requires_grad else view


def to_numpy(a):
    """A numpy copy (or view) of the device array ``a``."""
    if hasattr(a, "detach"):  # torch: outside autograd
        a = a.detach()
    try:
        return np.from_dlpack(a)
    except (BufferError, RuntimeError, TypeError, ValueError, AttributeError):
        pass
    if hasattr(a, "get"):  # CuPy
        return a.get()
    return np.from_dlpack(_compat().to_device(a, "cpu"))


def numpy_dtype(dtype):
    """The numpy dtype of a namespace's dtype (numpy's own, or the one of the
    same name: ``torch.float32`` is float32)."""
    if isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, type) and issubclass(dtype, np.generic):  # CuPy's are numpy's
        return np.dtype(dtype)
    return np.dtype(str(dtype).rsplit(".", 1)[-1])


def _device_arrays(est):
    """The learned arrays of ``est`` that live outside numpy (its parameters
    are what the user gave, and say nothing of where it was fitted)."""
    params = set(type(est)._get_param_names())
    return {k: v for k, v in vars(est).items()
            if k not in params and not isinstance(v, (np.ndarray, np.generic))
            and _compat().is_array_api_obj(v)}


def host_value(value):
    """A parameter given as an array of another library (a tensor, on any
    device, a ``torch.nn.Parameter`` that requires grad) as a numpy copy;
    anything else as it is."""
    if value is None or isinstance(value, (np.ndarray, np.generic, int, float, str)):
        return value
    if _compat().is_array_api_obj(value):
        return to_numpy(value)
    return value


def on_host(est):
    """``est`` with its learned arrays of other namespaces as numpy copies."""
    for key, value in _device_arrays(est).items():
        est.__dict__[key] = to_numpy(value)
    return est


def on_device(est, ns):
    """Move the numeric numpy arrays that ``est`` learned (its attributes
    other than its parameters) to the device of ``ns``, float64 ones as
    float32 where the device has no float64."""
    params = est.get_params(deep=False)
    for key, value in list(vars(est).items()):
        if key not in params and isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            dtype = ns.wide if value.dtype.kind == "f" else getattr(ns.xp, value.dtype.name)
            est.__dict__[key] = ns.xp.asarray(value, dtype=dtype, device=ns.device)


def _fitted_where(est):
    """Where ``est``'s fit data lived (``(namespace, device)``), or None when
    that is not known (unfitted, or fitted without array API dispatch)."""
    held = _device_arrays(est)
    if held:
        return Namespace(next(iter(held.values()))).key
    return getattr(est, "_fit_namespace", None)


@contextmanager
def fitted_on_host(est, ns, learns=None):
    """Hold ``est``'s learned arrays on the host as numpy inside the block,
    so each method's numpy logic serves every namespace.

    ``ns`` is the namespace of the call's data (None for numpy).
    ``learns`` says what the block does with that data: ``"fit"`` (learns
    from it afresh), ``"update"`` (adds it to what was learned: refused
    from another namespace), or None (only reads what was learned).  After a
    block that learns, the arrays go to the data's device and
    ``est._fit_namespace`` notes it; after any other block, or one that
    raises, the estimator holds the very arrays it held before.  Without
    array API dispatch this costs one ``get_config``."""
    if not get_config().get("array_api_dispatch", False):
        yield
        return
    if learns == "update" and _fitted_where(est) not in (None, _key(ns)):
        check_same_namespace(est, ns, "partial_fit")
    held = _device_arrays(est)
    for key, value in held.items():
        est.__dict__[key] = to_numpy(value)
    try:
        yield
    except BaseException:
        est.__dict__.update(held)
        raise
    if learns is None:
        est.__dict__.update(held)
    else:
        if ns is not None:
            on_device(est, ns)
        est._fit_namespace = _key(ns)


def _key(ns):
    return NUMPY if ns is None else ns.key


def check_same_namespace(est, given, method):
    """Refuse data of another namespace or device (``given``, None for
    numpy) than the data ``est`` was fitted on, as scikit-learn's
    estimators do."""
    if not get_config().get("array_api_dispatch", False):
        return
    fitted = _fitted_where(est)
    if fitted is None or fitted == _key(given):
        return
    called = "a numpy array" if given is None else f"{given.xp.__name__} arrays on {given.device}"
    raise ValueError(
        f"{type(est).__name__}.{method}() must use the same namespace and device as fit:"
        f" it was fitted on {fitted[0]} arrays on {fitted[1]}, and called with {called}.")
