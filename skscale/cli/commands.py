"""The subcommands: ``fit``, ``transform``, ``inverse`` and ``info``.

Each reads its arguments, asks :mod:`.models` for the scaler, :mod:`.tables`
for the columns and :mod:`.streams` to run the file through it; ``info``
prints to stdout.  Nothing here knows a method by name.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import models, tables
from .errors import CLIError
from .streams import fit_stream, map_stream


def cmd_fit(args):
    est = models.parse_params(args.param, models.method_class(args.method))
    fmt = tables.data_format(args.data, args)
    schema = tables.read_schema(args.data, fmt)
    requested = None if args.columns is None else [c.strip() for c in args.columns.split(",")]
    columns = tables.select_columns(schema, args.data, requested)
    fit_stream(est, args.data, fmt, args, columns, tables.work_dtype(schema, columns))
    models.save_model(est, args.output, models.model_format(args.output, args))


def cmd_transform(args):
    est = models.load_model(args.model, args)
    added = []
    if args.keep_stats:
        if not models.is_per_sample(est):
            raise CLIError(f"--keep-stats is for per-sample methods; {models.method_name(est)}"
                           " learns its parameters at fit and inverts without them")
        added = models.stats_columns(est)

    def apply(F, table):
        return est.transform(F), (models.sample_stats_arrays(est, F) if added else [])

    map_stream(est, args, args.data, args.output, apply, added=added)


def cmd_inverse(args):
    est = models.load_model(args.model, args)
    dropped = []
    if models.is_per_sample(est):
        dropped = models.stats_columns(est)
        schema = tables.read_schema(args.data, tables.data_format(args.data, args))
        if not set(dropped) <= set(schema.names):
            raise CLIError(
                f"{models.method_name(est)} scales each row by statistics of its own, which"
                f" {args.data!r} does not hold: transform with --keep-stats to keep them"
                f" (columns {', '.join(dropped)}), and inverse reads them back")

    def apply(F, table):
        if dropped:
            arrays = [pc.cast(table.column(n), pa.float64()).to_numpy() for n in dropped]
            return est.inverse_transform(F, sample_stats=models.sample_stats_from(arrays)), []
        return est.inverse_transform(F), []

    map_stream(est, args, args.data, args.output, apply, dropped=dropped)


def number(v):
    """An integer as such, a float in the shortest form that reads back exactly."""
    v = v.item() if isinstance(v, np.generic) else v
    return str(v) if isinstance(v, int) else repr(float(v))


def learned(est):
    """``(per_column, scalars)``: the fitted attributes ending in ``_`` with one
    value per column, and those with one number."""
    per_column, scalars = {}, {}
    for name in sorted(dir(est)):
        if not name.endswith("_") or name.startswith("_") or name in (
                "feature_names_in_", "n_features_in_"):
            continue
        try:
            value = getattr(est, name)
        except Exception:  # a property that does not apply to this fit
            continue
        if isinstance(value, np.ndarray) and value.shape == (est.n_features_in_,):
            per_column[name] = value
        elif isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            scalars[name] = value
    return per_column, scalars


def table_text(header, rows):
    widths = [max(map(len, col)) for col in zip(header, *rows)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in [header, *rows])


def cmd_info(args):
    est = models.load_model(args.model, args)
    params = ", ".join(f"{k}={v!r}" for k, v in sorted(est.get_params().items()))
    per_column, scalars = learned(est)
    lines = [f"method: {models.method_name(est)} ({type(est).__name__})", f"parameters: {params}",
             *(f"{name}: {number(v)}" for name, v in scalars.items())]
    if models.is_per_sample(est):
        lines.append("learned: nothing per column (each row is scaled by statistics of its own)")
    if hasattr(est, "report_"):  # AutoScaler: what it chose per column, and why
        report = est.report_[["column", "diagnosis", "method", "params", "reason"]]
        print("\n".join(lines) + "\n\n" + table_text(
            list(report.columns), [[str(v) for v in r] for r in report.itertuples(index=False)]))
        return
    names = [str(c) for c in est.feature_names_in_]
    rows = [[c, *(number(v[j]) for v in per_column.values())] for j, c in enumerate(names)]
    print("\n".join(lines) + "\n\n" + table_text(["column", *per_column], rows))


COMMANDS = {"fit": cmd_fit, "transform": cmd_transform, "inverse": cmd_inverse, "info": cmd_info}
