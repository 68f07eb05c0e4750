"""What ends a run of the command line, and the words the user reads.

It may touch nothing: it holds the exceptions that
end a run and the wording the other modules share (one line; rows counted in
the file; a value quoted as a shell would need it).
"""

import re
import shlex


class CLIError(Exception):
    """A mistake in the command, its files or its columns: one line, exit 2."""


class NotANumber(CLIError):
    """A value of a column to scale that is neither a number nor missing."""

    def __init__(self, path, column, row, value):
        self.path, self.column, self.row, self.value = path, column, row, value
        super().__init__(f"{path!r}: column {column!r} {self.reason}")

    @property
    def reason(self):
        return (f"holds {self.value!r} at row {self.row}, which is not a number; if it marks"
                f" a missing value, pass --na-values {shlex.quote(self.value)}")


class Interrupted(BaseException):
    """A signal that ends the run (SIGINT, SIGTERM, SIGHUP): exit 128 + its number.

    A ``BaseException``, as ``KeyboardInterrupt`` is, so that no handler of
    errors takes it for one, while every ``finally`` still runs."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def one_line(err):
    """``err``'s message on one line (its type's name where it has none)."""
    return " ".join(str(err).split()) or type(err).__name__


def note(args, text):
    """Something the user should know that is not an error: it is printed on
    stderr when the command succeeds (a failed one prints its error alone)."""
    args.notes.append(f"skscale: note: {one_line(text)}")


def in_rows(path, start, n, err):
    """An estimator's error on rows ``start..start + n - 1`` of the file, with
    the row numbers it gives (counted within those rows) counted in the file."""
    text, found = re.subn(r"\brow(s?) (\d+)(\.\.(\d+))?", lambda m: (
        f"row{m[1]} {start + int(m[2])}" + (f"..{start + int(m[4])}" if m[3] else "")), str(err))
    return CLIError(f"{path!r}: {text}" if found else f"{path!r}, rows {start}..{start + n - 1}:"
                    f" {text}")
