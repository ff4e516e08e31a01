"""The retrieval comparison as one PNG: gold set, SciFact and SQuAD-it side by side."""

from __future__ import annotations

from pathlib import Path

COLOURS = {"BM25": "#4c72b0", "dense": "#dd8452", "hybrid (default)": "#55a868",
           "hybrid, no glossary": "#8fbf9a", "hybrid, no act boost": "#b5d6bd",
           "LangChain (Chroma, k=4)": "#c44e52", "LangChain (Chroma, k=20)": "#e8a0a2"}


def _bars(ax, title: str, configs: dict, metrics: list[str], reference: dict | None = None) -> None:  # noqa: ANN001
    import numpy as np

    names = list(configs)
    width = 0.8 / max(len(names), 1)
    x = np.arange(len(metrics))
    for i, name in enumerate(names):
        values = [configs[name]["metrics"].get(m, 0.0) for m in metrics]
        bars = ax.bar(x + i * width - 0.4 + width / 2, values, width, label=name, color=COLOURS.get(name))
        ax.bar_label(bars, fmt="%.2f", fontsize=5 if len(names) > 4 else 7, padding=1,
                     rotation=90 if len(names) > 4 else 0)
    for (label, value), style in zip((reference or {}).items(), ("--", ":"), strict=False):
        ax.axhline(value, linestyle=style, linewidth=0.9, color="grey", label=f"{label} {value:.3f}")
    ax.set_xticks(x, metrics)
    ax.set_ylim(0, 1.1)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False)


def retrieval_plot(results: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    if "gold" in results:
        panels.append(("Gold set (document level)", results["gold"]["retrieval"]["configs"],
                       ["recall@1", "recall@5", "mrr@10", "ndcg@10"], None))
    if "scifact" in results:
        published = results["scifact"]["published_ndcg@10"]
        panels.append((f"BEIR SciFact ({results['scifact']['queries']} queries)", results["scifact"]["configs"],
                       ["ndcg@10", "recall@20", "mrr@10"],
                       {"published nDCG@10, BM25 (BEIR)": published["BM25 (BEIR paper)"],
                        "published nDCG@10, all-MiniLM-L6-v2 (MTEB)": published["all-MiniLM-L6-v2 (MTEB)"]}))
    if "squad" in results:
        panels.append((f"SQuAD-it ({results['squad']['queries']} questions)", results["squad"]["configs"],
                       ["recall@1", "recall@5", "recall@20", "mrr@10"], None))
    fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(5.5 * max(len(panels), 1), 5.2), squeeze=False)
    for ax, (title, configs, metrics, reference) in zip(axes[0], panels, strict=False):
        _bars(ax, title, configs, metrics, reference)
    fig.suptitle("Retrieval: BM25, dense, hybrid and baselines", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
