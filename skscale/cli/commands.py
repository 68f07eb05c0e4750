"""The subcommands: ``fit``, ``transform``, ``inverse``, ``info`` and ``check``.

Each reads its arguments, refuses an output that is one of its inputs, asks
:mod:`.models` for the scaler, :mod:`.tables` for the file and
:mod:`.streams` to run the file through it; ``info`` and ``check`` print to stdout.
Nothing here knows a method by name.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import models, tables
from .columns import select_columns
from .errors import CLIError, note
from .outputs import refuse_same
from .streams import check_file, fit_file, map_file


def requested_columns(args):
    """The columns named by ``--columns A,B`` and ``--column NAME`` (which
    takes a name with a comma), in order; None for the default."""
    if args.columns is None and not args.column:
        return None
    named = [c.strip() for c in args.columns.split(",")] if args.columns is not None else []
    return named + list(args.column or ())


def open_data(path, args):
    return tables.DataFile(path, tables.data_format(path, args), tables.Dialect.from_args(args))


def cmd_fit(args):
    refuse_same(args.output, [("training data", args.data)])
    template = models.parse_params(args.param, models.method_class(args.method))
    out_fmt = models.model_format(args.output, args)
    data = open_data(args.data, args)
    requested = requested_columns(args)
    columns, left_out = select_columns(data, requested)
    why = {name: data.why_not_numeric(name) for name in left_out}
    est = fit_file(template, data, args, columns, left_out=None if requested is not None else why)
    models.save_model(est, args.output, out_fmt)
    for name in sorted(why, key=data.names.index):  # (in the file's order, found when they may)
        note(args, f"column {name!r} left out: it {why[name]}")


def _map_inputs(args):
    refuse_same(args.output, [("model", args.model), ("input", args.data)])
    tables.data_format(args.output, args)  # (a bad output name fails before any work)
    return models.load_model(args.model, args), open_data(args.data, args)


def _made_by(data, est):
    """``(record, same)``: the record of the command that wrote ``data``
    (None for a CSV file or one not written by skscale), and whether ``est``
    is the model it names."""
    record = data.record()
    if record is None:
        return None, False
    return record, record.get("model") == models.fingerprint(est)


def cmd_transform(args):
    est, data = _map_inputs(args)
    record, same = _made_by(data, est)
    if record and record.get("command") == "transform" and same:
        raise CLIError(f"{args.data!r} was already scaled by this model ('skscale transform'"
                       " wrote it): transform the original data")
    added = []
    if args.keep_stats:
        if not models.is_per_sample(est):
            raise CLIError(f"--keep-stats is for per-sample methods; {models.method_name(est)}"
                           " learns its parameters at fit and inverts without them")
        added = models.stats_columns(est)

    def apply(F, table):
        return est.transform(F), (models.sample_stats_arrays(est, F) if added else [])

    map_file(est, data, args.output, args, apply, added=added,
             record=models.record(est, "transform"))


def cmd_inverse(args):
    est, data = _map_inputs(args)
    record, same = _made_by(data, est)
    if record and record.get("command") == "inverse":
        raise CLIError(f"{args.data!r} was written by 'skscale inverse': it is in original units"
                       " already")
    if record and record.get("command") == "transform" and not same:
        raise CLIError(
            f"{args.data!r} was scaled by another model ({record.get('method')}, on columns"
            f" {', '.join(map(repr, record.get('columns') or []))}) than {args.model!r}"
            f" ({models.method_name(est)}): inverse it with the model that scaled it")
    dropped = []
    if models.is_per_sample(est):
        dropped = models.stats_columns(est)
        if not set(dropped) <= set(data.names):
            raise CLIError(
                f"{models.method_name(est)} scales each row by statistics of its own, which"
                f" {args.data!r} does not hold: transform with --keep-stats to keep them"
                f" (columns {', '.join(dropped)}), and inverse reads them back")

    def apply(F, table):
        if dropped:
            arrays = [pc.cast(table.column(n), pa.float64()).to_numpy() for n in dropped]
            return est.inverse_transform(F, sample_stats=models.sample_stats_from(arrays)), []
        return est.inverse_transform(F), []

    map_file(est, data, args.output, args, apply, dropped=dropped,
             record=models.record(est, "inverse"))


def number(v):
    """An integer as such, a float in the shortest form that reads back
    exactly in its own type: 2.3 for a float32, not 2.299999952316284."""
    if isinstance(v, np.floating):
        return str(v)  # (numpy's shortest round-trip form for the scalar's type)
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
        report = est.report_
        if "sample" in report:  # (files of 0.1.0 decided on their first batch, unsaid)
            lines.append(f"decided on: a uniform sample of {int(report['sample'].max())} rows"
                         f" of {int(report['rows'].max())}")
        report = report[[c for c in ("column", "kind", "distinct", "diagnosis", "method",
                                     "params", "reason") if c in report]]
        print("\n".join(lines) + "\n\n" + table_text(
            list(report.columns), [[str(v) for v in r] for r in report.itertuples(index=False)]))
        return
    names = [str(c) for c in est.feature_names_in_]
    rows = [[c, *(number(v[j]) for v in per_column.values())] for j, c in enumerate(names)]
    print("\n".join(lines) + "\n\n" + table_text(["column", *per_column], rows))


def share(v):
    """A share, a mean or a shift of a drift report, short: NaN as '-'."""
    if isinstance(v, str):
        return v
    if isinstance(v, (int, np.integer)):
        return str(v)
    return "-" if np.isnan(v) else f"{v:.4g}"


def cmd_check(args):
    est = models.load_model(args.model, args)
    if args.output is not None:
        refuse_same(args.output, [("model", args.model), ("data", args.data)])
    data = open_data(args.data, args)
    drift = check_file(est, data, args)
    if args.output is None:
        print(table_text(list(drift.columns),
                         [[share(v) for v in r] for r in drift.itertuples(index=False)]))
        return
    from .outputs import output

    with output(args.output) as sink:
        text = drift.to_csv(index=False).encode("utf-8")
        if isinstance(sink, str):
            with open(sink, "wb") as f:
                f.write(text)
        else:
            sink.write(text)


COMMANDS = {"fit": cmd_fit, "transform": cmd_transform, "inverse": cmd_inverse, "info": cmd_info,
            "check": cmd_check}
