"""The performance table of the README as a figure: each call's time in units
of one read pass (R) or one copy (C) of the same data, skscale beside its
counterpart."""

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

# the plot directive runs this file from its own folder, without __file__
HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()
README = HERE.resolve().parents[1] / "README.md"


def rows():
    """``(call, ours, theirs, unit)`` for each row of the README's table
    whose times are in R or C."""
    text = README.read_text().split("<!-- performance -->")[1].split("<!-- /performance -->")[0]
    found = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3:
            continue
        times = [re.fullmatch(r"([\d.]+) ([RC])", c) for c in cells[1:]]
        if all(times) and times[0][2] == times[1][2]:
            found.append((cells[0].replace("`", ""), float(times[0][1]), float(times[1][1]),
                          times[0][2]))
    return found


def draw():
    table = rows()
    fig, ax = plt.subplots(figsize=(8.6, 0.42 * len(table) + 1.2))
    y = np.arange(len(table))[::-1]
    ax.barh(y + 0.2, [r[1] for r in table], 0.4, label="skscale", color="#3465a4")
    ax.barh(y - 0.2, [r[2] for r in table], 0.4, label="counterpart", color="#babdb6")
    ax.set_yticks(y, [f"{r[0]}  [{r[3]}]" for r in table], fontsize=7)
    ax.axvline(1, color="k", lw=0.8, ls="--")
    ax.set_xlabel("time, in units of R (one read of X) or C (one copy of X)")
    ax.legend(fontsize=8, loc="lower right")
    return fig

