"""The ``skscale`` console script: fit, transform, inverse and info on files.

Parquet and CSV files are streamed in record batches with pyarrow (extra
``cli``), so peak memory stays flat however long the file: ``fit`` feeds each
batch to the estimator's ``partial_fit``, ``transform`` and ``inverse`` write
each batch as soon as it is scaled.  The selected columns reach the estimator
as a pandas frame, so the saved model carries their names
(``feature_names_in_``) like one fitted in Python, and every error names the
column.

The package touches files only; how each method learns and scales stays in
its own module.  Its rooms:

- :mod:`.options`: the options and their help;
- :mod:`.tables`: reading Parquet and CSV in chunks, writing them back;
- :mod:`.outputs`: output files, complete or absent;
- :mod:`.models`: methods by name, parameters, saving and loading models;
- :mod:`.streams`: a file through an estimator, chunk by chunk;
- :mod:`.commands`: the subcommands;
- :mod:`.errors`: the one-line errors.

This module holds :func:`main` alone, and imports pyarrow (and the rest)
only when it runs.
"""

import sys
import warnings

__all__ = ["main"]


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

    Files are Parquet or CSV by extension (``--format`` overrides), read and
    written ``--chunk-rows`` rows at a time.  Columns not scaled pass through
    unchanged and in place; nulls stay null; scaled integer columns become
    float64.  Models are saved with skops (loaded with
    :func:`skscale.io.load`), or joblib for a ``.joblib`` path or
    ``--format joblib`` (a pickle: load only files you trust).  Per-sample
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
        an unexpected failure.

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
    from .errors import CLIError, one_line

    try:
        import pyarrow as pa
    except ImportError:
        print('skscale: error: the command line needs pyarrow: pip install "skscale[cli]"',
              file=sys.stderr)
        return 2
    from .commands import COMMANDS
    from .options import build_parser

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            args = build_parser().parse_args(argv)
            COMMANDS[args.command](args)
        except (CLIError, ValueError, TypeError, OSError, ImportError, pa.ArrowException) as err:
            # (pyarrow's errors are ValueError or OSError)
            print(f"skscale: error: {one_line(err)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("skscale: interrupted", file=sys.stderr)
            return 130
        except Exception as err:  # a bug, but still no traceback for the user
            print(f"skscale: error: unexpected {type(err).__name__}: {one_line(err)}",
                  file=sys.stderr)
            return 1
    return 0
