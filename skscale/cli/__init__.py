"""The ``skscale`` console script: fit, transform, inverse, info and check on files.

Parquet and CSV files are streamed in record batches with pyarrow (extra
``cli``), so peak memory stays flat however long the file: ``fit`` feeds each
batch to the estimator's ``partial_fit``, ``transform`` and ``inverse`` write
each batch as soon as it is scaled.  The selected columns reach the estimator
as a pandas frame, so the saved model carries their names
(``feature_names_in_``) like one fitted in Python, and every error names the
column.

The package touches files only; how each method learns and scales stays in
its own module.  Its rooms:

- :mod:`.options`: the options and their help (no pyarrow needed);
- :mod:`.tables`: reading Parquet and CSV in chunks, writing them back;
- :mod:`.columns`: which columns are scaled, as one float array;
- :mod:`.outputs`: output files, complete or absent, and streams;
- :mod:`.models`: methods by name, parameters, saving, loading and trusting
  models, and the record of a model in its outputs;
- :mod:`.streams`: a file through an estimator, chunk by chunk (every fit
  goes through :func:`~.streams.fit_stream`);
- :mod:`.commands`: the subcommands;
- :mod:`.errors`: the one-line errors and notes.

This module holds :func:`main` alone.  It may touch the process's signal
handlers (while :func:`main` runs, then restored) and stdout and stderr; it
imports pyarrow and the other rooms only once its signal handlers are in
place, so that Ctrl-C while they load prints one line, not a traceback.
"""

import contextlib
import errno
import os
import sys
import warnings

__all__ = ["main"]

#: Signals that end a run: the temporary output is removed, one line is
#: printed, and the exit status is 128 + the signal's number.
SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
#: The exit status after a reader closed the pipe the output went to.
BROKEN_PIPE = 128 + 13


@contextlib.contextmanager
def _signals_end_the_run():
    """While the block runs, the :data:`SIGNALS` the process does not ignore
    raise :class:`~.errors.Interrupted` (in the main thread; elsewhere
    Python delivers no signal)."""
    import signal
    import threading

    from .errors import Interrupted

    def handler(signum, frame):
        raise Interrupted(signum)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for name in SIGNALS:
            sig = getattr(signal, name, None)
            if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
                previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _silence_stdout():
    """After a broken pipe, point stdout at /dev/null, so that Python's own
    flush at exit does not complain (the Python documentation's advice)."""
    with contextlib.suppress(Exception):
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    from .errors import one_line

    print(f"skscale: warning: {one_line(message)}", file=sys.stderr)


def main(argv=None):
    """Run the ``skscale`` command line; return its exit status.

    ::

        skscale fit --method zscore [--param k=v ...] [--columns a,b] train.parquet -o scaler.skops
        skscale transform scaler.skops test.parquet -o out.parquet [--keep-stats]
        skscale inverse scaler.skops out.parquet -o back.parquet
        skscale info scaler.skops
        skscale check scaler.skops new.parquet [-o report.csv]

    Files are Parquet or CSV by extension (``--format`` overrides), read and
    written ``--chunk-rows`` rows at a time.  Columns not scaled pass through
    unchanged and in place; nulls stay null; scaled integer columns become
    float64.  Models are saved with skops (loaded with
    :func:`skscale.io.load`), as JSON for a ``.json`` path (loaded with
    :func:`skscale.io.load_json`), or with joblib for a ``.joblib`` path or
    ``--format joblib``: a pickle, which ``transform``, ``inverse``,
    ``info`` and ``check`` load only with ``--trust-pickle``.  ``check``
    prints how a file's columns have drifted from the training data (see
    ``check_drift``), or writes that report as CSV with ``-o``.  Per-sample
    methods (unit, layer, instance and group norm) learn nothing at fit,
    which records the columns; ``inverse`` needs each row's statistics, which
    ``transform --keep-stats`` writes as extra columns.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success; 2 after a mistake in the command or its files (one
        line ``skscale: error: ...`` on stderr, no output written); 1 after
        an unexpected failure; 128 + the signal's number after SIGINT,
        SIGTERM or SIGHUP (one line, no output written); 141 where the
        reader of its output closed the pipe (nothing printed).

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from skscale.cli import main
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     train, model, out = (os.path.join(folder, f) for f in ("a.csv", "m.skops", "b.csv"))
    ...     pd.DataFrame({"x": [1, 2, 3], "name": ["a", "b", "c"]}).to_csv(train, index=False)
    ...     main(["fit", "--method", "minmax", train, "-o", model])
    ...     main(["transform", model, train, "-o", out])
    ...     print(open(out).read())
    0
    0
    "x","name"
    0,"a"
    0.5,"b"
    1,"c"
    """
    from .errors import Interrupted

    try:
        with _signals_end_the_run():
            return _run(argv)
    except Interrupted as stop:
        import signal

        print(f"skscale: interrupted by {signal.Signals(stop.signum).name}", file=sys.stderr)
        return 128 + stop.signum


def _run(argv):
    from .errors import CLIError, one_line
    from .options import build_parser

    try:  # (--help and --version end here, and need no pyarrow)
        args = build_parser().parse_args(argv)
    except CLIError as err:
        print(f"skscale: error: {one_line(err)}", file=sys.stderr)
        return 2
    try:
        import pyarrow as pa
    except ImportError:
        print('skscale: error: the command line needs pyarrow: pip install "skscale[cli]"',
              file=sys.stderr)
        return 2
    from .commands import COMMANDS

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            args.notes = []
            COMMANDS[args.command](args)
            sys.stdout.flush()  # (a closed pipe shows here, not at exit)
            if not args.quiet and args.notes:
                print("\n".join(args.notes), file=sys.stderr)
        except BrokenPipeError:  # the reader has gone (`skscale info m | head`): say nothing
            _silence_stdout()
            return BROKEN_PIPE
        except (CLIError, ValueError, TypeError, OSError, ImportError, pa.ArrowException) as err:
            if isinstance(err, OSError) and err.errno == errno.EPIPE:  # (as pyarrow words it)
                _silence_stdout()
                return BROKEN_PIPE
            # (pyarrow's errors are ValueError or OSError)
            print(f"skscale: error: {one_line(err)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:  # (where no handler could be set: not the main thread)
            print("skscale: interrupted", file=sys.stderr)
            return 130
        except Exception as err:  # a bug, but still no traceback for the user
            print(f"skscale: error: unexpected {type(err).__name__}: {one_line(err)}",
                  file=sys.stderr)
            return 1
    return 0
