"""The command line's options and their help: the one place that says what
each subcommand takes.

It may touch nothing: it builds the :mod:`argparse` parser.
"""

import argparse

from .errors import CLIError
from .models import STATS_PREFIX


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


def build_parser():
    from .._scaler import METHODS
    from .._version import __version__

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--format", action="append", choices=["parquet", "csv", "skops", "joblib"],
                        help="read and write data as parquet or csv, and the model as skops or"
                             " joblib, whatever the extensions say (may be given twice)")
    common.add_argument("--chunk-rows", type=_positive, default=65536, metavar="N",
                        help="rows read, fitted and written at a time (default: 65536)")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    parser = _Parser(prog="skscale", description="Fit skscale's scalers on Parquet or CSV"
                     " files and apply them, streaming the files in chunks of rows.")
    parser.add_argument("--version", action="version", version=f"skscale {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    fit = sub.add_parser("fit", parents=[common], help="learn a scaler from a data file")
    fit.add_argument("data", help="training data (.parquet or .csv)")
    fit.add_argument("-o", "--output", required=True, help="model file (.skops, or .joblib)")
    fit.add_argument("--method", default="zscore", help=f"one of {', '.join(METHODS)}"
                     " (default: zscore)")
    fit.add_argument("--param", action="append", metavar="NAME=VALUE",
                     help="a parameter of the method, as a Python literal or a string;"
                          " repeat for more (e.g. --param 'feature_range=(-1, 1)')")
    fit.add_argument("--columns", metavar="A,B,...",
                     help="columns to scale (default: every numeric column)")

    for name, text in (("transform", "scale a data file with a fitted scaler"),
                       ("inverse", "map scaled data back to the original units")):
        cmd = sub.add_parser(name, parents=[common], help=text)
        cmd.add_argument("model", help="model file written by 'skscale fit'")
        cmd.add_argument("data", help="data file (.parquet or .csv)")
        cmd.add_argument("-o", "--output", required=True, help="output data file")
    sub.choices["transform"].add_argument(
        "--keep-stats", action="store_true",
        help=f"per-sample methods: add each row's statistics as {STATS_PREFIX}* columns,"
             " which 'inverse' needs")

    info = sub.add_parser("info", parents=[common], help="what a fitted scaler learned")
    info.add_argument("model", help="model file written by 'skscale fit'")
    return parser
