"""What a user would run instead: RegDiffusion and GRNBoost2 beside the default model on the six shared networks.

Each of the six shared BEELINE ChIP-seq networks (``{Specific,Non-Specific}/
{mDC,hHEP,mHSC-GM}/TFs+500``) is split per TF exactly as
``benchmarks/celltypes.py`` splits it (``gl.bm.split(truth, adata.var_names,
protocol="tf_matched", seed=seed)``, the split ``gl.bm.run`` draws), and every
method is scored on that split's test pairs:

- ``default``: grnlink's default model, fitted by ``gl.bm.run`` as
  celltypes.py fits it (``grn_fit(adata, split.prior, **split.fit_kwargs(),
  seed=seed, groupby="condition")``), one fit per network and seed;
- ``degree``: the degree control (``gl.bm.degree_scores`` of the split's
  training positives);
- ``RegDiffusion`` (``regdiffusion.RegDiffusionTrainer``, its defaults on the
  CPU, ``seed=0`` for a reproducible run): trained on the whole expression
  matrix; a test pair's score is its weight in ``trainer.get_adj()`` (rows
  regulators, columns targets; 0 where soft thresholding removed it);
- ``GRNBoost2`` (arboreto, run by ``benchmarks/scale.py``'s ``ARBORETO_SCRIPT``
  with one dask worker of one thread): the whole expression matrix, regulators
  restricted to the network's TF list (``TF.csv``, ``adata.var["is_tf"]``); a
  test pair's score is its importance, 0 when GRNBoost2 gives no edge.

The peers never see the prior: they infer one network per data set from
expression alone, once per network (their result does not depend on the
split), and that network is scored on every seed's test pairs; their fit time
and memory are those of that one run. Every fit runs in its own process with
one thread (torch, BLAS, dask), as ``celltypes.py --jobs N`` fits; ``fit_s`` is
the seconds of the fit (grnlink: ``grn_fit``; RegDiffusion: constructing and
training the trainer and reading the adjacency; GRNBoost2: starting its dask
cluster and inferring); ``peak_mib`` the peak resident memory of the process
that ran it, its children included (dask's worker), sampled every 20 ms: the
interpreter, libraries and data, not only what the fit adds.

The peers run in their own virtual environments, never in grnlink's (torch
from the local CPU wheel; arboreto needs dask 2024.2.1, which breaks with
current pandas/numpy)::

    python3.11 -m venv /work/peers-venv
    /work/peers-venv/bin/pip install torch==2.13.0 regdiffusion pandas numpy
    python3.11 -m venv /work/arboreto-venv
    /work/arboreto-venv/bin/pip install arboreto "dask[dataframe]==2024.2.1" "distributed==2024.2.1" \\
        "pandas<2.2" "numpy<2"

Run from the repository root::

    python benchmarks/peers.py --jobs 2 --seeds 0 1 2
    python benchmarks/peers.py --seeds 0 --networks "Non-Specific/mDC"

Finished fits are kept in ``--cache`` (one JSON file each), so a run that was
stopped resumes where it was. It prints the tables and writes
``benchmarks/results/peers.{md,csv}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from _report import DEFAULT_DATA, REPO, THREAD_VARIABLES, environment, load_average, one_thread, write_report
from celltypes import DATASETS, GROUPBY, NETWORKS, default_model, folder
from scale import ARBORETO_SCRIPT

import grnlink as gl

PEERS = ("RegDiffusion", "GRNBoost2")
DEFAULT = "default"
METRICS = ("tf_auroc", "tf_auprc", "auroc", "auprc", "fit_s", "peak_mib")
ALL_NETWORKS = tuple(f"{network}/{dataset}" for network in NETWORKS for dataset in DATASETS)

REGDIFFUSION_SCRIPT = """
import sys, time
import numpy as np, pandas as pd, torch
import regdiffusion as rd
torch.set_num_threads(1)
expression = pd.read_csv(sys.argv[1], sep="\\t", index_col=0)
start = time.perf_counter()
trainer = rd.RegDiffusionTrainer(expression.to_numpy(np.float32), device="cpu", seed=0)
trainer.train()
adj = trainer.get_adj()
seconds = time.perf_counter() - start
np.save(sys.argv[2], adj.astype(np.float32))
print(seconds)
"""


@dataclass(frozen=True)
class Fit:
    """One measured fit: a peer on one network, or the default model on one network and seed."""

    method: str
    network: str  # "Specific/mDC"
    seed: int | None = None

    @property
    def stem(self) -> str:
        name = f"{self.method}_{self.network.replace('/', '_')}"
        return name if self.seed is None else f"{name}_seed{self.seed}"


def measured(command: list[str], timeout: float) -> tuple[subprocess.CompletedProcess | None, float]:
    """Run ``command`` with one thread per library; its result (None past ``timeout``) and peak MiB of its tree.

    The peak is the largest sum of resident memory of the process and its
    descendants (dask's worker processes), sampled every 20 ms.
    """
    env = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, "1")}
    process = psutil.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    peak = [0]
    running = [True]

    def sample():
        while running[0]:
            try:
                tree = [process, *process.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return None, peak[0] / 2**20
    finally:
        running[0] = False
        sampler.join()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), peak[0] / 2**20


def load(data: Path, network: str):
    """The BEELINE data set of ``network`` ("Specific/mDC"), as celltypes.py reads it."""
    kind, dataset = network.split("/")
    return gl.ds.beeline(folder(data, kind, dataset))


def run_fit(fit: Fit, args) -> dict:
    """Measure one fit in its own process; a JSON-able record (kept in the cache)."""
    cache = args.cache / fit.stem
    record = {"method": fit.method, "network": fit.network, "seed": fit.seed, "load_before": load_average()}
    if fit.method == DEFAULT:
        command = [sys.executable, __file__, "--worker", fit.network, str(fit.seed), "--data", str(args.data)]
    else:
        expression, tfs = inputs(args, fit.network)
        if fit.method == "RegDiffusion":
            command = [str(args.regdiffusion_python), "-c", REGDIFFUSION_SCRIPT, str(expression), f"{cache}.npy"]
        else:
            command = [str(args.arboreto_python), "-c", ARBORETO_SCRIPT, str(expression), str(tfs), fit.method]
            command += [f"{cache}.tsv", "1"]
    start = time.perf_counter()
    done, peak_mib = measured(command, args.timeout)
    record.update(wall_s=time.perf_counter() - start, peak_mib=peak_mib)
    if done is None:
        record["status"] = f"stopped after {args.timeout:.0f} s"
    elif done.returncode != 0:
        record["status"] = "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:300]
    else:
        record["status"] = "ok"
        last = done.stdout.strip().splitlines()[-1]
        if fit.method == DEFAULT:
            record["rows"] = json.loads(last)
            record["fit_s"] = float(record["rows"][0]["fit_s"])
        else:
            record["fit_s"] = float(last)
    Path(f"{cache}.json").write_text(json.dumps(record))
    print(f"{fit.stem}: {record['status']}, fit {record.get('fit_s', float('nan')):.1f} s, {peak_mib:.0f} MiB")
    return record


def inputs(args, network: str) -> tuple[Path, Path]:
    """The expression (cells x genes TSV) and TF list files of ``network`` that the peers read."""
    stem = args.cache / network.replace("/", "_")
    expression, tfs = Path(f"{stem}_expression.tsv"), Path(f"{stem}_tfs.txt")
    if not expression.exists():
        adata = load(args.data, network)
        adata.to_df().to_csv(expression, sep="\t")
        tfs.write_text("\n".join(adata.var_names[adata.var["is_tf"]]))
    return expression, tfs


def default_worker(network: str, seed: int, data: Path) -> list[dict]:
    """The default model on one network and seed, fitted and scored by ``gl.bm.run`` as in celltypes.py."""
    one_thread()
    adata = load(data, network)
    results = gl.bm.run(adata, adata.uns["true_network"], [default_model()], seeds=[seed], groupby=GROUPBY)
    return results.to_dict("records")


def peer_weights(fit: Fit, cache: Path, genes: pd.Index) -> pd.Series:
    """The peer's edge weights indexed by (source, target), non-zero edges only."""
    stem = cache / fit.stem
    if fit.method == "RegDiffusion":
        adj = np.load(f"{stem}.npy")
        sources, targets = np.nonzero(adj)
        index = pd.MultiIndex.from_arrays([genes[sources], genes[targets]])
        return pd.Series(adj[sources, targets], index=index)
    network = pd.read_csv(f"{stem}.tsv", sep="\t")
    return network.set_index(["TF", "target"])["importance"]


def edge_scores(weights: pd.Series, pairs: pd.DataFrame) -> np.ndarray:
    """Each pair's weight, 0 when the peer gives no edge (as scale.py scores arboreto)."""
    index = pd.MultiIndex.from_arrays([pairs["source"].astype(str), pairs["target"].astype(str)])
    return weights.reindex(index).fillna(0.0).to_numpy(float)


def score(records: dict[Fit, dict], args) -> pd.DataFrame:
    """One row per network, method and seed: metrics on the seed's test pairs, fit seconds and peak MiB."""
    rows = []
    for network in args.networks:
        adata = load(args.data, network)
        kind, dataset = network.split("/")
        peers = {
            fit.method: peer_weights(fit, args.cache, adata.var_names)
            for fit, record in records.items()
            if fit.network == network and fit.seed is None and record["status"] == "ok"
        }
        for seed in args.seeds:
            record = records.get(Fit(DEFAULT, network, seed))
            if record is None or record["status"] != "ok":
                continue
            split = gl.bm.split(adata.uns["true_network"], adata.var_names, protocol="tf_matched", seed=seed)
            own = {row["model"]: row for row in record["rows"]}
            scores = {
                "degree": (gl.bm.degree_scores(split.prior, split.test), gl.bm.degree_scores(split.prior, split.val))
            }
            scores |= {name: (edge_scores(w, split.test), edge_scores(w, split.val)) for name, w in peers.items()}
            degree = gl.bm.evaluate(split.test, scores["degree"][0], val=split.val, val_scores=scores["degree"][1])
            if not np.isclose(degree["tf_auroc"], own["degree"]["tf_auroc"]):  # the same test pairs as gl.bm.run's
                raise RuntimeError(f"{network} seed {seed}: the split differs from gl.bm.run's")
            base = {"dataset": dataset, "task": kind}
            default_row = {key: own[default_model()][key] for key in ("tf_auroc", "tf_auprc", "auroc", "auprc")}
            fitted = records[Fit(DEFAULT, network, seed)]
            rows.append(
                {**base, "model": f"{DEFAULT} ({default_model()})", "seed": seed, **default_row}
                | {"fit_s": fitted["fit_s"], "peak_mib": fitted["peak_mib"], "load_before": fitted["load_before"]}
            )
            for name, (test_scores, val_scores) in scores.items():
                metrics = gl.bm.evaluate(split.test, test_scores, val=split.val, val_scores=val_scores)
                fitted = records.get(Fit(name, network), {"fit_s": 0.0, "peak_mib": np.nan, "load_before": np.nan})
                rows.append(
                    {**base, "model": name, "seed": seed}
                    | {key: metrics[key] for key in ("tf_auroc", "tf_auprc", "auroc", "auprc")}
                    | {key: fitted[key] for key in ("fit_s", "peak_mib", "load_before")}
                )
    return pd.DataFrame(rows)


def network_table(results: pd.DataFrame) -> str:
    """Markdown: per network and method, mean per-TF AUROC/AUPRC, pooled AUROC, fit seconds and peak MiB."""
    grouped = results.groupby(["dataset", "task", "model"], sort=False)
    table = grouped[["tf_auroc", "tf_auprc", "auroc", "auprc", "fit_s", "peak_mib"]].mean()
    table["seeds"] = grouped.size()
    return readable(table).reset_index().to_markdown(index=False, disable_numparse=True)


def mean_table(results: pd.DataFrame) -> str:
    """Markdown: per method, the mean over the networks of the per-network means (and of fit seconds)."""
    per_network = results.groupby(["dataset", "task", "model"], sort=False)[list(METRICS)].mean().reset_index()
    table = per_network.groupby("model", sort=False)[list(METRICS)].mean()
    table["networks"] = per_network.groupby("model", sort=False).size()
    return readable(table).reset_index().to_markdown(index=False, disable_numparse=True)


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """Metrics to 3 digits, fit seconds to 0.1 s and peak memory to 1 MiB, as text ("-" where there is none)."""
    table = table.copy()
    for column in METRICS:
        digits = {"fit_s": 1, "peak_mib": 0}.get(column, 3)
        table[column] = [f"{value:.{digits}f}" if value == value else "-" for value in table[column]]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--networks", nargs="+", default=list(ALL_NETWORKS), choices=ALL_NETWORKS)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--peers", nargs="*", default=list(PEERS), choices=PEERS)
    parser.add_argument("--jobs", type=int, default=1, help="fits at once, each in its own one-thread process")
    parser.add_argument("--regdiffusion-python", type=Path, default=Path("/work/peers-venv/bin/python"))
    parser.add_argument("--arboreto-python", type=Path, default=Path("/work/arboreto-venv/bin/python"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/grnlink_peers"))
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds one fit may take")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--note", default="", help="a line added under the command in the report (e.g. partial)")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    machine = environment(args.jobs)
    fits = [Fit(peer, network) for network in args.networks for peer in args.peers]
    fits += [Fit(DEFAULT, network, seed) for seed in args.seeds for network in args.networks]
    records, todo = {}, []
    for fit in fits:
        path = args.cache / f"{fit.stem}.json"
        if path.exists() and json.loads(path.read_text())["status"] == "ok":
            records[fit] = json.loads(path.read_text())
        else:
            todo.append(fit)
    print(f"{len(records)} fits cached, {len(todo)} to run", flush=True)
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = {pool.submit(run_fit, fit, args): fit for fit in todo}
        for future in as_completed(futures):
            records[futures[future]] = future.result()
    failed = {fit.stem: record["status"] for fit, record in records.items() if record["status"] != "ok"}
    results = score(records, args)
    command = (
        f"python benchmarks/peers.py --jobs {args.jobs} --seeds {' '.join(map(str, args.seeds))}"
        + (f" --networks {' '.join(args.networks)}" if list(args.networks) != list(ALL_NETWORKS) else "")
        + (f" --peers {' '.join(args.peers)}" if list(args.peers) != list(PEERS) else "")
    )
    header = "\n".join(
        [
            "# Peers side by side: RegDiffusion and GRNBoost2 beside the default and the degree control\n",
            f"Made by `{command}` ({machine}; load average {load_average():.1f} at the end).\n",
            *([args.note + "\n"] if args.note else []),
            *([f"Fits that did not finish: {failed}.\n"] if failed else []),
            DESCRIPTION,
            "## Mean over the networks\n",
            mean_table(results) + "\n",
            "## Per network (mean over seeds)\n",
            network_table(results) + "\n",
            "## Mean ± sd over seeds\n\n",
        ]
    )
    write_report(results.drop(columns="load_before"), args.out / "peers", header, metrics=METRICS)
    results.to_csv(args.out / "peers.csv", index=False)


DESCRIPTION = """\
Every method is scored on the same test pairs: the per-TF split of `benchmarks/celltypes.py` (`tf_matched`: per
TF, a third of its ChIP-seq targets against a third of its other genes), one split per seed. `default`: grnlink's
default model trained on the split's training pairs (`gl.bm.run`, `groupby="condition"`); `degree`: the TF's plus
the target's number of training edges. `RegDiffusion` (regdiffusion 0.2.3, defaults, CPU, `seed=0`) and
`GRNBoost2` (arboreto 0.1.6, regulators: the network's `TF.csv`) infer one network from the whole expression
matrix, without the prior; a test pair's score is its edge weight (0 when absent). Their network is inferred once
per network and scored on every seed's test pairs (their fit columns repeat that one run). `tf_auroc`/`tf_auprc`:
per-TF AUROC/AUPRC averaged over the TFs with both classes among their test pairs; `auroc`/`auprc`: pooled.
`fit_s`: seconds of the fit, one thread; `peak_mib`: peak resident memory of the process that ran it (with
dask's worker process for GRNBoost2), interpreter and data included; the degree control costs nothing.
`load_before` in `peers.csv`: the one-minute load average when the fit started (2 cores, shared with other work).
"""


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        network, seed, data = sys.argv[2], int(sys.argv[3]), Path(sys.argv[5])
        print(json.dumps(default_worker(network, seed, data), default=float))
    else:
        main()
