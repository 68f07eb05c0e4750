"""The command line's options and their help: the one place that says what
each subcommand takes, and the names the command gives to what it adds.

It may touch nothing: it builds the :mod:`argparse` parser and reads what
it parsed.  It needs neither pyarrow nor skops, so that ``--help`` works
without them.
"""

import argparse

from .errors import CLIError

#: Prefix of the columns that ``transform --keep-stats`` adds for per-sample methods.
STATS_PREFIX = "_skscale_"


def formats(args):
    """``(data_format, model_format)`` from the ``--format`` options (None: by extension)."""
    given = args.format or []
    data = [f for f in given if f in ("parquet", "csv")]
    model = [f for f in given if f in ("skops", "joblib", "json")]
    if len(data) > 1 or len(model) > 1:
        raise CLIError("--format takes one data format (parquet, csv) and one model"
                       f" format (skops, json, joblib); got {', '.join(given)}")
    return (data or [None])[0], (model or [None])[0]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints usage too: one line is the promise
        raise CLIError(f"{message} (see '{self.prog} --help')")


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


TRUST_HELP = ("load a pickled model (.joblib, .pkl, .pickle, --format joblib): loading a pickle"
              " runs any code it holds, so without this option such a model is refused"
              " unopened; pass it only for files you trust")


def build_parser():
    from .._scaler import METHODS, Scaler
    from .._version import __version__

    default = Scaler().method  # (the method a Scaler takes when none is named)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--format", action="append",
                        choices=["parquet", "csv", "skops", "json", "joblib"],
                        help="read and write data as parquet or csv, and the model as skops,"
                             " json or joblib, whatever the extensions say (may be given twice)")
    common.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar and no notes (errors still print)")

    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--chunk-rows", type=_positive, default=65536, metavar="N",
                      help="rows read, fitted and written at a time (default: 65536)")
    csv = data.add_argument_group("CSV files")
    csv.add_argument("--delimiter", default=",", metavar="CHAR",
                     help="the character between fields, also of CSV output (default: ',')")
    csv.add_argument("--encoding", default="utf8",
                     help="the text encoding of CSV input, e.g. latin-1 or cp1252 (default:"
                          " utf8); CSV output is UTF-8")
    csv.add_argument("--na-values", action="append", metavar="A,B,...",
                     help="tokens that mark a missing value, on top of '', NA, NaN, null, N/A"
                          " and the like (e.g. --na-values '?,-'); repeat for more")
    header = csv.add_mutually_exclusive_group()
    header.add_argument("--no-header", dest="header", action="store_false", default=None,
                        help="the first line is data: the columns are named c0, c1, ..."
                             " (CSV output is then written without a header too)")
    header.add_argument("--header", dest="header", action="store_true", default=None,
                        help="the first line holds the column names even if they read as"
                             " numbers (without either option such a line is refused)")

    trust = argparse.ArgumentParser(add_help=False)
    trust.add_argument("--trust-pickle", action="store_true", help=TRUST_HELP)

    parser = _Parser(prog="skscale", description="Fit skscale's scalers on Parquet or CSV"
                     " files and apply them, streaming the files in chunks of rows. Models are"
                     " skops files, which load without running code from the file; pickled"
                     " models (joblib) load only with --trust-pickle.")
    parser.add_argument("--version", action="version", version=f"skscale {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    fit = sub.add_parser("fit", parents=[common, data], help="learn a scaler from a data file")
    fit.add_argument("data", help="training data (.parquet or .csv)")
    fit.add_argument("-o", "--output", required=True,
                     help="model file: .skops, .json (plain text any language reads), or"
                          " .joblib for a pickle (other names need --format); '-' writes it"
                          " to stdout")
    fit.add_argument("--method", default=default, help=f"one of {', '.join(METHODS)}"
                     f" (default: {default})")
    fit.add_argument("--param", action="append", metavar="NAME=VALUE",
                     help="a parameter of the method, as a Python literal or a string;"
                          " repeat for more (e.g. --param 'feature_range=(-1, 1)')")
    fit.add_argument("--columns", metavar="A,B,...",
                     help="columns to scale (default: every numeric column; the others are"
                          " named on stderr with the reason they were left out)")
    fit.add_argument("--column", action="append", metavar="NAME",
                     help="one more column to scale, whatever its name holds (a comma, say);"
                          " repeat for more")

    for name, text in (("transform", "scale a data file with a fitted scaler"),
                       ("inverse", "map scaled data back to the original units")):
        cmd = sub.add_parser(name, parents=[common, data, trust], help=text)
        cmd.add_argument("model", help="model file written by 'skscale fit'")
        cmd.add_argument("data", help="data file (.parquet or .csv)")
        cmd.add_argument("-o", "--output", required=True,
                         help="output data file; '-', a FIFO or a device is written through"
                              " (as the data format --format names)")
    sub.choices["transform"].add_argument(
        "--keep-stats", action="store_true",
        help=f"per-sample methods: add each row's statistics as {STATS_PREFIX}* columns,"
             " which 'inverse' needs")

    info = sub.add_parser("info", parents=[common, trust], help="what a fitted scaler learned")
    info.add_argument("model", help="model file written by 'skscale fit'")

    check = sub.add_parser("check", parents=[common, data, trust],
                           help="how a data file has drifted from what a scaler was fitted on")
    check.add_argument("model", help="model file written by 'skscale fit'")
    check.add_argument("data", help="data file (.parquet or .csv)")
    check.add_argument("-o", "--output",
                       help="write the report as CSV there ('-': stdout) instead of a table")
    return parser
