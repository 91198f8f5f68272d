"""What the benchmark scripts share: paths, the environment line and the report writer."""

from __future__ import annotations

import multiprocessing
import os
import platform
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np
import pandas as pd
import scanpy as sc
import threadpoolctl
import torch

import grnlink as gl

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "beeline"
DEFAULT_PRIORS = REPO.parent / "shared" / "data" / "priors"


def load_average() -> float:
    """The machine's one-minute load average (NaN where the system has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def environment(workers: int = 1) -> str:
    """grnlink and torch versions, machine, thread count and load, for the report header.

    The load average matters: fit seconds measured while other work shares the
    cores are longer than on an idle machine. ``workers`` > 1: the work runs in
    that many processes of one torch/BLAS thread each (see :func:`one_thread`).
    """
    threads = (
        f"{workers} worker processes of 1 torch/BLAS thread each"
        if workers > 1
        else f"{torch.get_num_threads()} torch threads, scanpy n_jobs {_scanpy_jobs()}"
    )
    return (
        f"grnlink {gl.__version__} at commit {commit()}, torch {torch.__version__}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {threads}, "
        f"load average {load_average():.1f} at the start"
    )


def start_run(workers: int = 1, threads: int | None = None) -> str:
    """Log at scanpy's info level, use ``threads`` threads (default: every core), and return the environment line."""
    sc.settings.verbosity = 2
    sc.settings.n_jobs = threads or os.cpu_count() or 1
    return environment(workers)


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def one_thread() -> None:
    """Limit this process to one thread: torch, BLAS/OpenMP pools, scanpy's n_jobs; quiet progress bars.

    The initializer of benchmark worker processes, so that N workers share N
    cores without oversubscription. The environment variables only reach
    libraries that have not started their pools yet: set them in the parent
    before starting ``spawn`` workers too (:func:`worker_pool` does).
    """
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    torch.set_num_threads(1)
    threadpoolctl.threadpool_limits(1)
    sc.settings.n_jobs = 1
    sc.settings.verbosity = 0  # many workers' progress bars (shown from 1) would interleave; the parent reports units


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` fresh (``spawn``) processes, each limited to one thread by :func:`one_thread`."""
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))  # inherited by the spawned workers before any import
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=one_thread)


def _scanpy_jobs() -> int:
    return int(sc.settings.n_jobs)


def commit() -> str:
    """Short hash of HEAD, "+changes" when src/ has uncommitted changes."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=REPO, capture_output=True, text=True)
        return out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "") if out.returncode == 0 else "unknown"
    except OSError:
        return "unknown"


def split_prior(truth: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two thirds of each TF's targets (rounded up) as the prior, the rest held out."""
    rng = np.random.default_rng(seed)
    shuffled = truth.iloc[rng.permutation(len(truth))]
    rank = shuffled.groupby("source").cumcount()
    size = shuffled.groupby("source")["target"].transform("size")
    in_prior = rank < np.ceil(2 * size / 3)
    return shuffled.loc[in_prior].reset_index(drop=True), shuffled.loc[~in_prior].reset_index(drop=True)


def load_mdc(data: Path, network: str):
    """BEELINE mDC TFs+500 with the given ground truth and the candidate TFs of its ``TF.csv``."""
    adata = gl.ds.beeline(data / network / "mDC" / "TFs+500")
    return adata, adata.uns["true_network"], list(adata.var_names[adata.var["is_tf"]])


def bar_figure(results: pd.DataFrame, path: Path, *, panels: str, bars: str, metric: str = "tf_auroc") -> None:
    """Mean ± sd of ``metric`` per model, one bar per value of ``bars``, one panel per value of ``panels``."""
    panel_values = list(dict.fromkeys(results[panels]))
    fig, axes = plt.subplots(1, len(panel_values), figsize=(5.5 * len(panel_values), 4), squeeze=False)
    for ax, panel in zip(axes[0], panel_values):
        frame = results[results[panels] == panel]
        models = list(dict.fromkeys(frame["model"]))
        groups = list(dict.fromkeys(frame[bars]))
        width = 0.8 / len(groups)
        for i, group in enumerate(groups):
            stats = (
                frame[frame[bars] == group].groupby("model", sort=False)[metric].agg(["mean", "std"]).reindex(models)
            )
            positions = [j + (i - (len(groups) - 1) / 2) * width for j in range(len(models))]
            ax.bar(positions, stats["mean"], width, yerr=stats["std"], label=str(group), capsize=2)
        ax.set_xticks(range(len(models)), models, rotation=45, ha="right")
        ax.set_ylim(0, 1)
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        ax.set_title(str(panel))
        ax.set_ylabel(metric)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")


def line_figure(table: pd.DataFrame, path: Path, *, x: str, y: str, hue: str, xlabel: str, ylabel: str) -> None:
    """Mean ± sd of ``y`` against ``x``, one line per value of ``hue``."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, frame in table.groupby(hue, sort=False):
        stats = frame.groupby(x)[y].agg(["mean", "std"])
        ax.errorbar(stats.index, stats["mean"], yerr=stats["std"], marker="o", capsize=2, label=str(name))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")


def heatmap_figure(table: pd.DataFrame, path: Path, *, title: str, label: str) -> None:
    """``table`` (rows x columns of numbers) as a heat map centred at 0, each cell annotated with its value."""
    values = table.to_numpy(dtype=float)
    limit = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0
    n_rows, n_cols = values.shape
    fig, ax = plt.subplots(figsize=(max(6.0, 2.5 + 0.85 * n_cols), max(3.5, 2.6 + 0.4 * n_rows)))
    image = ax.imshow(values, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            colour = "white" if abs(value) > 0.6 * limit else "black"
            ax.text(j, i, f"{value:+.3f}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(n_cols), [str(c) for c in table.columns], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n_rows), [str(r) for r in table.index], fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label=label, fraction=0.04, pad=0.02)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")


def write_report(
    results: pd.DataFrame, stem: Path, header: str, metrics=None, footer: str = "", compare=("tf_auroc", "tf_auprc")
) -> None:
    """Print the summary, write ``stem.csv`` (per-seed rows) and ``stem.md`` (mean ± sd and control comparison)."""
    table = gl.bm.summarise(results, **({"metrics": metrics} if metrics else {}))
    comparison = gl.bm.versus_control(results, metrics=compare)
    print(table.to_string(index=False))
    print(comparison.to_string(index=False))
    stem.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(stem.with_suffix(".csv"), index=False)
    body = (
        table.to_markdown(index=False)
        + "\n\nSeed-paired difference to the degree control (mean ± sd; wins = seeds in which the model is ahead):\n\n"
        + comparison.to_markdown(index=False)
        + "\n"
        + footer
    )
    stem.with_suffix(".md").write_text(header + body)
    print(f"wrote {stem.with_suffix('.md')} and {stem.with_suffix('.csv')}")
