"""Where the command line writes: output files, made whole or not at all.

It may touch the output paths named on the command line and hidden
temporary files beside them; nothing else on disk.
"""

import contextlib
import os
import secrets

from .errors import CLIError


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path beside ``path`` and move it onto ``path`` only
    when the block succeeds: a failed run leaves no half-written output, and
    an existing file stays as it was."""
    folder, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CLIError(f"cannot write {path!r}: no folder {folder!r}")
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
