"""Device arrays of the nonlinear maps (power, quantile, squashing) through
the host, until device kernels exist for them.

Under array API dispatch a device array is copied to the host, transformed
by the numpy kernels and copied back to its device, in its dtype; fits
already take their statistics on the host.  This module touches nothing but
that round trip; ``_array_api`` keeps everything else (the namespace checks,
where fitted arrays live).
"""

from . import _array_api


class TransformOnHost:
    """Mixin for a :class:`~skscale._base.ColumnScaler` whose map has no
    device kernel yet: ``transform`` and ``inverse_transform`` of a device
    array run on a host copy."""

    def _run(self, X, copy, inverse):
        ns = _array_api.namespace(X)
        if ns is None or ns.host:
            return super()._run(X, copy, inverse)
        Y = super()._run(_array_api.to_numpy(X), True, inverse)
        return ns.xp.asarray(Y, device=ns.device)
