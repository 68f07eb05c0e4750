"""Library-wide settings: which kernels run.

One setting today, ``compiled``: whether skscale's numba loops (the ``fast``
extra) run instead of its numpy kernels.  Both give the same results (bit for
bit or to the documented rounding); the compiled loops are faster on large
arrays and cost a compilation, or a load from their cache, the first time a
process uses each.  The environment variable ``SKSCALE_COMPILED`` (``auto``,
``1`` or ``0``) sets the value a process starts with.
"""

import os
from contextlib import contextmanager

_MODES = {"auto": "auto", "1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False}


def _from_environment():
    value = os.environ.get("SKSCALE_COMPILED", "auto").strip().lower()
    if value not in _MODES:
        raise ValueError(f"SKSCALE_COMPILED={value!r}: use auto, 1 or 0.")
    return _MODES[value]


_CONFIG = {"compiled": _from_environment()}


def get_config():
    """The current settings of skscale.

    Returns
    -------
    config : dict
        ``{"compiled": "auto" | True | False}``; see :func:`set_config`.

    Examples
    --------
    >>> import skscale
    >>> sorted(skscale.get_config())
    ['compiled']
    """
    return dict(_CONFIG)


def set_config(compiled=None):
    """Change skscale's settings for the whole process.

    Parameters
    ----------
    compiled : {"auto", True, False}, default=None
        Which kernels run. ``"auto"`` (the default) runs the compiled numba
        loops on inputs large enough for them to win and the numpy kernels
        on smaller ones; ``True`` runs the compiled loops on every input they
        take; ``False`` runs the numpy kernels only and never imports numba.
        Without numba installed the numpy kernels run whatever the setting.
        None leaves the setting as it is. The environment variable
        ``SKSCALE_COMPILED`` (``auto``, ``1``, ``0``) sets the starting value.

    See Also
    --------
    config_context : the same change for a ``with`` block only.

    Examples
    --------
    >>> import skscale
    >>> skscale.set_config(compiled=False)   # numpy kernels only
    >>> skscale.get_config()["compiled"]
    False
    >>> skscale.set_config(compiled="auto")
    """
    if compiled is not None:
        if compiled not in ("auto", True, False):
            raise ValueError(f"compiled must be 'auto', True or False; got {compiled!r}.")
        _CONFIG["compiled"] = compiled


@contextmanager
def config_context(**settings):
    """Change skscale's settings inside a ``with`` block, then restore them.

    Parameters
    ----------
    **settings
        As for :func:`set_config`.

    Examples
    --------
    >>> import numpy as np
    >>> import skscale
    >>> with skscale.config_context(compiled=False):
    ...     skscale.ZScoreScaler().fit_transform(np.array([[1.0], [3.0]])).ravel()
    array([-1.,  1.])
    """
    before = get_config()
    set_config(**settings)
    try:
        yield
    finally:
        _CONFIG.update(before)
