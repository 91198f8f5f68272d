"""What the benchmark scripts share: paths, the environment line and the report writer."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pandas as pd
import torch

import grnlink as gl

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "beeline"


def environment() -> str:
    """grnlink and torch versions, machine, thread count and load, for the report header.

    The load average matters: fit seconds measured while other work shares the
    cores are longer than on an idle machine.
    """
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"grnlink {gl.__version__}, torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, {torch.get_num_threads()} torch threads, load average {load:.1f} at the start"
    )


def write_report(results: pd.DataFrame, stem: Path, header: str) -> None:
    """Print the summary, write ``stem.csv`` (per-seed rows) and ``stem.md`` (mean ± sd and control comparison)."""
    table = gl.bm.summarise(results)
    comparison = gl.bm.versus_control(results)
    print(table.to_string(index=False))
    print(comparison.to_string(index=False))
    stem.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(stem.with_suffix(".csv"), index=False)
    body = (
        table.to_markdown(index=False)
        + "\n\nSeed-paired difference to the degree control (mean ± sd; wins = seeds in which the model is ahead):\n\n"
        + comparison.to_markdown(index=False)
        + "\n"
    )
    stem.with_suffix(".md").write_text(header + body)
    print(f"wrote {stem.with_suffix('.md')} and {stem.with_suffix('.csv')}")
