"""What ends a run of the command line, and how it is worded.

It may touch nothing: it holds the exception of a user's mistake and the
wording the other modules share (one line; rows counted in the file).
"""

import re


class CLIError(Exception):
    """A mistake in the command, its files or its columns: one line, exit 2."""


def one_line(err):
    """``err``'s message on one line (its type's name where it has none)."""
    return " ".join(str(err).split()) or type(err).__name__


def in_rows(path, start, n, err):
    """An estimator's error on rows ``start..start + n - 1`` of the file, with
    the row numbers it gives (counted within those rows) counted in the file."""
    text, found = re.subn(r"\brow(s?) (\d+)(\.\.(\d+))?", lambda m: (
        f"row{m[1]} {start + int(m[2])}" + (f"..{start + int(m[4])}" if m[3] else "")), str(err))
    return CLIError(f"{path!r}: {text}" if found else f"{path!r}, rows {start}..{start + n - 1}:"
                    f" {text}")
