"""The method chooser's flowchart: questions about the data and the model,
top to bottom, each answered yes (to the right) or no (down)."""

import matplotlib.pyplot as plt

QUESTIONS = [
    ("Tree-based model?", "no scaling needed\n(splits ignore monotone maps)"),
    ("Known fixed range?\n(8-bit pixels, percentages)", "MinMaxScaler(data_range=(low, high)),\ne.g. (0, 255) for pixels"),
    ("Sparse, zeros meaningful?", "ZScoreScaler(with_mean=False), DecimalScaler,\nLogScaler(offset=1), UnitNormScaler"),
    ("Only each sample's direction\nmatters? (text, embeddings)", "UnitNormScaler"),
    ("Non-negative values with\na heavy right tail?", "LogScaler, then ZScoreScaler"),
    ("Neural-network layer\nor image channels?", "batch / layer / instance /\ngroup norm (see table)"),
    ("Stream that drifts?", "BatchNormScaler(momentum=0.1)"),
]
DEFAULT = "ZScoreScaler (or DecimalScaler\nfor readable powers of ten)"


def draw():
    fig, ax = plt.subplots(figsize=(8.6, 7.4))
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.5, len(QUESTIONS) + 0.8)
    ax.axis("off")
    question = dict(boxstyle="round,pad=0.45", fc="#e8f0fb", ec="#3465a4")
    answer = dict(boxstyle="round,pad=0.45", fc="#eaf6e4", ec="#4e9a06")
    arrow = dict(arrowstyle="-|>", color="#555555", lw=1.2)
    ax.text(2.3, len(QUESTIONS) + 0.55, "start from the data and the model", ha="center",
            fontsize=10, style="italic")
    for k, (q, a) in enumerate(QUESTIONS):
        y = len(QUESTIONS) - k
        ax.text(2.3, y, q, ha="center", va="center", fontsize=9, bbox=question)
        ax.text(7.5, y, a, ha="center", va="center", fontsize=9, bbox=answer)
        ax.annotate("", xy=(5.3, y), xytext=(4.15, y), arrowprops=arrow)
        ax.text(4.7, y + 0.12, "yes", ha="center", fontsize=8)
        ax.annotate("", xy=(2.3, y - 0.62), xytext=(2.3, y - 0.36), arrowprops=arrow)
        ax.text(2.5, y - 0.52, "no", fontsize=8)
    ax.text(2.3, 0, DEFAULT, ha="center", va="center", fontsize=9, bbox=answer)
    return fig

