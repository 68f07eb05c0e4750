"""Where the command line writes: files made whole or not at all, and
streams written through.

It may touch the output paths named on the command line, stdout for
``-o -``, and hidden temporary files beside an output, named
``.NAME.skscale-XXXXXXXX.tmp`` (eight hex digits), which it removes on any
failure or signal it can catch; ones of that pattern for the same NAME left
more than a day ago (by a SIGKILL or a power cut) it removes when it next
writes NAME.  Nothing else on disk.
"""

import contextlib
import os
import re
import secrets
import stat
import sys
import time

from .errors import CLIError

#: Temporary files older than this (seconds) are left over from a run that was killed.
STALE_AFTER = 24 * 3600


#: Names of a file descriptor the process holds: what the shell opened stays
#: the file written, even where it is a regular file (``> out.csv``).
_DESCRIPTORS = re.compile(r"/dev/(stdout|stderr|fd/\d+)|/proc/[^/]+/fd/\d+")


def is_stream(path):
    """Whether ``path`` is written through, without a temporary file: ``-``
    (stdout), a file descriptor's name (``/dev/stdout``, ``/dev/fd/3``), or
    an existing FIFO, device or socket."""
    if path == "-" or _DESCRIPTORS.fullmatch(os.path.abspath(path)):
        return True
    try:
        return not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path)
    except OSError:
        return False


def refuse_same(out, inputs):
    """Refuse an output that is one of the ``inputs`` (``(what, path)``
    pairs): the same file by any name (a hard link, a symbolic link)."""
    if is_stream(out):
        return
    for what, path in inputs:
        with contextlib.suppress(OSError):
            if os.path.samefile(out, path):
                raise CLIError(f"{out!r} is the {what} {path!r} itself: writing it would destroy"
                               " it; name another output file")


def temporary_name(final):
    """A fresh hidden name beside ``final``."""
    folder, name = os.path.split(final)
    return os.path.join(folder, f".{name}.skscale-{secrets.token_hex(4)}.tmp")


def _remove_stale(final):
    folder, name = os.path.split(final)
    pattern = re.compile(rf"\.{re.escape(name)}\.skscale-[0-9a-f]{{8}}\.tmp")
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    if time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER:
                        os.unlink(entry.path)


@contextlib.contextmanager
def output(path):
    """Yield where to write ``path``: a binary file for a stream
    (:func:`is_stream`), else a temporary path beside it that is moved onto
    it only when the block succeeds, so that a failed run leaves no partial
    file and an existing one as it was.

    A symbolic link is written through to its target (the link stays); an
    existing file keeps its permissions.
    """
    if path == "-":
        sys.stdout.flush()
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    if is_stream(path):
        try:
            sink = open(path, "wb")
        except OSError as err:
            raise CLIError(f"cannot write {path!r}: {err.strerror}") from None
        with sink:
            yield sink
        return
    final = os.path.realpath(path)
    folder = os.path.dirname(final)
    if os.path.isdir(final):
        raise CLIError(f"cannot write {path!r}: it is a folder")
    if not os.path.isdir(folder):
        raise CLIError(f"cannot write {path!r}: no folder {os.path.dirname(path) or folder!r}")
    try:
        mode = stat.S_IMODE(os.stat(final).st_mode)
    except OSError:
        mode = None  # a new file: the umask decides, as for any file
    _remove_stale(final)
    tmp = temporary_name(final)
    try:  # (from here on a failure or a signal removes the temporary file)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as err:
            raise CLIError(f"cannot write {path!r}: {err.strerror}") from None
        try:
            if mode is not None:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
