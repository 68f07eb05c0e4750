"""Uniform samples of rows that merge: what AutoScaler decides on.

A :class:`Reservoir` holds at most ``size`` rows of a stream, drawn
uniformly without replacement whatever the order of the rows and however the
stream is cut: every row gets a random key and the ``size`` rows of smallest
key are kept (a "bottom-k" sample), so the reservoirs of disjoint sets of
rows merge into the reservoir of their union (``partial_fit`` batches, Dask
blocks merged in a tree).  Each row keeps its position in the stream, and
:attr:`Reservoir.rows` gives the sample in stream order: a column sorted in
the stream is sorted in the sample.  This module touches numpy only and
knows nothing of what is decided on the sample.
"""

import numpy as np

#: Positions of a row in a stream cut into parts: ``part << PART_SHIFT | row``
#: (a part -- a Dask block -- of up to 2**40 rows).
PART_SHIFT = 40


class Reservoir:
    """A uniform sample of at most ``size`` rows of a stream.

    Parameters
    ----------
    size : int
        The most rows kept.
    n_features : int
        Number of columns.

    Attributes
    ----------
    values : ndarray of shape (n_kept, n_features)
        The rows kept (float64), in no particular order.
    keys : ndarray of shape (n_kept,)
        Their random keys: the ``size`` smallest of all rows seen.
    positions : ndarray of shape (n_kept,)
        Their positions in the stream (int64).
    n_rows : int
        Number of rows seen.
    """

    def __init__(self, size, n_features):
        self.size = int(size)
        self.values = np.empty((0, n_features))
        self.keys = np.empty(0)
        self.positions = np.empty(0, dtype=np.int64)
        self.n_rows = 0

    @classmethod
    def of(cls, X, size, seed, part=0, first=0):
        """The reservoir of the rows of ``X`` (2-D), part ``part`` of a stream
        whose keys come from ``seed`` and ``part``, its first row at
        position ``first``."""
        out = cls(size, X.shape[1])
        keys = np.random.default_rng([int(seed), int(part)]).random(X.shape[0])
        return out.add(X, keys, first + np.arange(X.shape[0], dtype=np.int64))

    def add(self, X, keys, positions):
        """Fold rows ``X`` with their ``keys`` and stream ``positions`` in."""
        self.n_rows += X.shape[0]
        if X.shape[0] > self.size:  # (copy only the rows that may stay)
            keep = np.argpartition(keys, self.size - 1)[:self.size]
            X, keys, positions = X[keep], keys[keep], positions[keep]
        if self.keys.size == self.size and self.size:  # full: only smaller keys get in
            smaller = keys < self.keys.max()
            X, keys, positions = X[smaller], keys[smaller], positions[smaller]
        values = np.concatenate([self.values, np.asarray(X, dtype=np.float64)])
        keys = np.concatenate([self.keys, keys])
        positions = np.concatenate([self.positions, positions])
        if keys.size > self.size:
            keep = np.argpartition(keys, self.size - 1)[:self.size]
            values, keys, positions = values[keep], keys[keep], positions[keep]
        self.values, self.keys, self.positions = values, keys, positions
        return self

    def merge(self, other):
        """The reservoir of the rows of both (disjoint rows, same ``size``)."""
        out = Reservoir(self.size, self.values.shape[1])
        out.values, out.keys, out.positions = self.values, self.keys, self.positions
        out.n_rows = self.n_rows
        n = other.n_rows - other.keys.size  # (rows it saw but does not hold)
        out.add(other.values, other.keys, other.positions)
        out.n_rows += n
        return out

    @property
    def rows(self):
        """The sample, in stream order: a 2-D float64 array."""
        return self.values[np.argsort(self.positions, kind="stable")]


def uniform_rows(X, size, seed):
    """A uniform sample of at most ``size`` rows of the in-memory 2-D array
    ``X``, in stream order: ``X`` itself where it has no more rows, else the
    rows the :class:`Reservoir` of ``X`` (part 0 of a stream seeded
    ``seed``) would keep, as a float64 array."""
    n = X.shape[0]
    if n <= size:
        return X
    keys = np.random.default_rng([int(seed), 0]).random(n)
    keep = np.sort(np.argpartition(keys, size - 1)[:size])
    return np.asarray(X[keep], dtype=np.float64)
