"""What each model costs at genome scale, and how the cost grows with genes and cells.

Parts (``--parts``):

- ``fit``: every model (``--models``) fitted with its default options on a
  synthetic AnnData of 20,000 genes x 5,000 cells (``gl.ds.simulate``, gene
  names taken from DoRothEA) with the DoRothEA human A-D prior (29,086 edges,
  361 TFs: the prior the issue measured), then ``grn_predict`` over every prior
  TF x every gene. Per model: fit and predict seconds, peak resident memory of
  the process, bytes of the fitted model in ``adata.uns`` and in the h5ad file.
- ``scaling``: ``--scaling-models`` at 1k, 5k and 20k genes (5,000 cells) and
  at 1k, 10k and 100k cells (5,000 genes; the 100k file read with
  ``backed="r"``), with the fitted exponent of seconds against size.
- ``means``: ``gl.pp.celltype_means`` on a backed 200,000-cell x 20,000-gene
  sparse h5ad beside ``scanpy.get.aggregate`` on the same matrix in memory.
- ``peers``: on 2,000 genes x 2,000 cells simulated with a known network, the
  per-TF split (``gl.bm.split``): grnlink's default model and ``dual_encoder``
  (fit on the training edges, score the test pairs) beside arboreto's GRNBoost2
  and GENIE3 (unsupervised, on the same expression and candidate TFs; a test
  pair's score is its importance, 0 when absent). Seconds end to end and per-TF
  AUROC on the same test pairs. arboreto's dask code breaks with current dask,
  so it runs in its own environment, made with::

      python3.11 -m venv arboreto-env
      arboreto-env/bin/pip install arboreto "dask[dataframe]==2024.2.1" "distributed==2024.2.1" \
          "pandas<2.2" "numpy<2"

  and named by ``--arboreto-python arboreto-env/bin/python`` (the part is
  skipped without it).
- ``contention``: one fit (``dual_encoder``, 5,000 genes x 2,000 cells) idle and
  while a competing CPU-bound process spins on one core.
- ``atlas``: the default model (``stack``) fitted and predicted on 20,000 genes x
  100,000 cells, sparse, read with ``backed="r"`` (the 10,000-cell simulation
  tiled ten times, as for the 100k-cell scaling file).
- ``units``: for the models that do not finish a genome-scale fit in
  ``--timeout`` (``--unit-models``, default ``genie3``), the real fit
  is started and stopped after ``--unit-seconds`` (at least 3 units) of its
  work, each unit timed: ``genie3``'s
  unit is one target gene's forest (a fit grows one per gene), ``gnt``'s one
  training step (a fit takes up to ``max_epochs`` epochs of
  ``epoch_pairs / batch_size`` steps per ensemble member; since ``context``
  a step is cheap and the projection leaves out the validation passes, so
  ``gnt`` is measured by ``fit``). The table gives seconds per unit and the units a full fit needs; their
  product is a projection, labelled as such, not a measured fit, and only as good
  as the first units are typical of the rest.

Every measurement runs in a fresh process, one at a time, with scanpy's
``n_jobs`` at every core the process may use (grnlink's thread control), so
peak memory is that of one fit. A measurement that passes ``--timeout`` is
stopped and reported as such. Synthetic files are cached in ``--cache``.

Run from the repository root::

    python benchmarks/scale.py                                   # every part
    python benchmarks/scale.py --parts fit --models dual_encoder pcc --timeout 600
    python benchmarks/scale.py --parts scaling means contention
    python benchmarks/scale.py --report                          # rewrite md/png from scale.csv

It prints the tables and writes ``benchmarks/results/scale.{md,csv,png}``;
``--merge`` keeps the rows of the existing CSV that this run does not replace.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import DEFAULT_PRIORS, REPO, environment, load_average  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
GENOME = {"n_genes": 20_000, "n_cells": 5_000}
PRIOR_LEVELS = ("A", "B", "C", "D")
KEY = "grn"


# ---------------------------------------------------------------- data ----------------------------------------------
def dorothea(priors: Path) -> pd.DataFrame:
    """DoRothEA human edges of levels A-D (29,086 edges, 361 TFs)."""
    table = pd.read_csv(priors / "dorothea_hs.tsv.gz", sep="\t")
    return table[table["confidence"].isin(PRIOR_LEVELS)].reset_index(drop=True)


def synthetic(n_genes: int, n_cells: int, prior: pd.DataFrame, seed: int = 0):
    """Simulated counts whose genes carry DoRothEA's names: its TFs on simulated TFs, its targets on the rest.

    The expression says nothing about DoRothEA's edges (the names are a label):
    this data measures cost, not accuracy. Genes beyond DoRothEA's are named
    ``G<i>``; a smaller data set keeps the prior's TFs and as many targets as fit.
    """
    import grnlink as gl

    tfs = list(dict.fromkeys(prior["source"]))
    targets = [g for g in dict.fromkeys(prior["target"]) if g not in set(tfs)]
    adata = gl.ds.simulate(n_genes=n_genes, n_tfs=len(tfs), n_cells=n_cells, n_celltypes=8, seed=seed)
    is_tf = adata.var["is_tf"].to_numpy()
    names = np.empty(n_genes, dtype=object)
    names[is_tf] = tfs[: int(is_tf.sum())]
    others = targets + [f"G{i}" for i in range(n_genes)]
    names[~is_tf] = others[: int((~is_tf).sum())]
    adata.var_names = pd.Index(names.astype(str))
    del adata.uns["true_network"]
    return adata


MAX_SIMULATED_CELLS = 10_000  # larger files repeat the cells of a 10,000-cell simulation (simulate is dense)


def cached_file(cache: Path, n_genes: int, n_cells: int, priors: Path) -> Path:
    """The synthetic h5ad of this size, simulated (or tiled from a 10,000-cell one) on first use."""
    import anndata as ad

    path = cache / f"synthetic_{n_genes}x{n_cells}.h5ad"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        if n_cells <= MAX_SIMULATED_CELLS:
            adata = synthetic(n_genes, n_cells, dorothea(priors))
        else:
            base = ad.read_h5ad(cached_file(cache, n_genes, MAX_SIMULATED_CELLS, priors))
            repeats = -(-n_cells // base.n_obs)
            adata = ad.concat([base] * repeats, index_unique="-")[:n_cells].copy()
            adata.var = base.var
        adata.write_h5ad(path)
        print(f"wrote {path} in {time.perf_counter() - start:.0f} s", flush=True)
    return path


def backed_counts_file(cache: Path, n_cells: int, n_genes: int, density: float = 0.03) -> Path:
    """A sparse cells x genes h5ad written chunk by chunk (never whole in memory), with 8 cell types."""
    import anndata as ad
    import h5py
    import scipy.sparse as sp
    from anndata.experimental import write_elem

    path = cache / f"counts_{n_cells}x{n_genes}.h5ad"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    cell_types = pd.Categorical([f"type{i}" for i in rng.integers(0, 8, n_cells)])
    obs = pd.DataFrame({"cell_type": cell_types}, index=[f"c{i}" for i in range(n_cells)])
    var = pd.DataFrame(index=[f"g{i}" for i in range(n_genes)])
    ad.AnnData(obs=obs, var=var).write_h5ad(path)
    chunk = 10_000
    with h5py.File(path, "a") as f:
        first = sp.random(chunk, n_genes, density=density, format="csr", random_state=rng, dtype=np.float32)
        first.data = np.round(first.data * 10.0).astype(np.float32) + 1.0
        write_elem(f, "X", first)
        group = f["X"]
        for start in range(chunk, n_cells, chunk):
            rows = min(chunk, n_cells - start)
            block = sp.random(rows, n_genes, density=density, format="csr", random_state=rng, dtype=np.float32)
            block.data = np.round(block.data * 10.0).astype(np.float32) + 1.0
            sp_group = ad.experimental.sparse_dataset(group)
            sp_group.append(block)
    return path


# ------------------------------------------------------------ workers -----------------------------------------------
def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def nbytes(tree) -> int:
    """Bytes of the arrays under a nested mapping (strings and tables counted by their numpy size)."""
    if isinstance(tree, dict):
        return sum(nbytes(v) for v in tree.values())
    if isinstance(tree, pd.DataFrame):
        return int(tree.memory_usage(deep=True).sum())
    return int(np.asarray(tree).nbytes)


def fit_worker(spec: dict) -> dict:
    """Fit and predict one model on one file; the numbers of the issue's table."""
    import anndata as ad
    import scanpy as sc

    import grnlink as gl

    sc.settings.verbosity = 1
    sc.settings.n_jobs = int(spec.get("n_jobs", 1))
    adata = ad.read_h5ad(spec["file"], backed="r" if spec.get("backed") else None)
    prior = dorothea(Path(spec["priors"]))
    options = {"groupby": "cell_type", **spec.get("options", {})}
    start = time.perf_counter()
    gl.tl.grn_fit(adata, prior, model=spec["model"], key_added=KEY, **options)
    fit_s = time.perf_counter() - start
    model_bytes = nbytes({k: v for k, v in adata.uns[KEY].items() if k != "training"})
    h5ad_bytes = float("nan")
    if not spec.get("backed"):
        out = Path(spec["cache"]) / f"fitted_{spec['model']}.h5ad"
        adata.write_h5ad(out)
        h5ad_bytes = out.stat().st_size - Path(spec["file"]).stat().st_size
        out.unlink()
    start = time.perf_counter()
    edges = gl.tl.grn_predict(adata, key=KEY) if spec.get("predict", True) else None
    predict_s = time.perf_counter() - start if edges is not None else float("nan")
    return {
        "fit_s": fit_s,
        "predict_s": predict_s,
        "n_edges_kept": len(edges) if edges is not None else 0,
        "n_pairs_scored": int(adata.uns[KEY]["tfs"].size * (adata.n_vars - 1)),
        "peak_rss_mib": peak_rss_mib(),
        "uns_mib": model_bytes / 2**20,
        "h5ad_model_mib": h5ad_bytes / 2**20,
        "n_train_pos": int(adata.uns[KEY]["training"]["n_train_pos"]),
    }


def means_worker(spec: dict) -> dict:
    """celltype_means on the backed file, or scanpy.get.aggregate on the matrix read into memory."""
    import anndata as ad
    import scanpy as sc

    import grnlink as gl

    backed = spec["tool"] == "grnlink backed"
    start = time.perf_counter()
    adata = ad.read_h5ad(spec["file"], backed="r" if backed else None)
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    if spec["tool"].startswith("grnlink"):
        gl.pp.celltype_means(adata, "cell_type")
    else:
        sc.get.aggregate(adata, by="cell_type", func="mean")
    return {"seconds": time.perf_counter() - start, "read_s": read_s, "peak_rss_mib": peak_rss_mib()}


class _EnoughUnits(Exception):
    """Raised by a unit probe once it has timed the units it was asked for."""


MIN_UNITS = 3


def unit_probe(function, seconds: float, times: list[float]):
    """``function`` wrapped to record the time of each call and to stop the caller once the calls since
    the first have taken ``seconds`` (and at least :data:`MIN_UNITS` units, each from one call to the next)."""

    def probe(*args, **kwargs):
        times.append(time.perf_counter())
        if len(times) > MIN_UNITS and times[-1] - times[0] >= seconds:
            raise _EnoughUnits
        return function(*args, **kwargs)

    return probe


def units_worker(spec: dict) -> dict:
    """Start a genome-scale fit of ``genie3`` or ``gnt`` and time its first units of work (see ``units``)."""
    import anndata as ad
    import scanpy as sc

    import grnlink as gl
    from grnlink.models import genie3, gnt

    sc.settings.verbosity = 1
    sc.settings.n_jobs = int(spec.get("n_jobs", 1))
    adata = ad.read_h5ad(spec["file"])
    prior = dorothea(Path(spec["priors"]))
    model, times = spec["model"], []
    defaults = gl.models.get_model_class(model).defaults
    if model == "genie3":  # one forest per target gene, grown one after another at n_jobs=1
        genie3.make_forest = unit_probe(genie3.make_forest, spec["unit_seconds"], times)
        n_units, unit = adata.n_vars, "target gene's forest"
    elif model == "gnt":  # a training forward is one step; scoring passes (no grad) do not count
        forward = gnt.GeneTokenTransformer.forward
        gnt.GeneTokenTransformer.forward = unit_probe(forward, spec["unit_seconds"], times)
        steps = -(-defaults["epoch_pairs"] // defaults["batch_size"])
        n_units, unit = steps * defaults["max_epochs"] * defaults["n_ensemble"], "training step"
    else:
        raise ValueError(f"no unit probe for {model!r}")
    start = time.perf_counter()
    try:
        gl.tl.grn_fit(adata, prior, model=model, key_added=KEY, groupby="cell_type")
    except _EnoughUnits:
        pass
    else:
        raise RuntimeError(f"{model} finished within {spec['unit_seconds']} s of units: measure it with --parts fit")
    seconds_per_unit = float(np.mean(np.diff(times)))
    return {
        "unit": unit,
        "setup_s": times[0] - start,
        "seconds_per_unit": seconds_per_unit,
        "n_units_timed": len(times) - 1,
        "units_per_fit": n_units,
        "projected_fit_h": (times[0] - start + seconds_per_unit * n_units) / 3600.0,
        "peak_rss_mib": peak_rss_mib(),
    }


WORKERS = {"fit": fit_worker, "means": means_worker, "units": units_worker}


def run_worker(kind: str, spec: dict, timeout: float) -> dict:
    """``kind`` measurement of ``spec`` in a fresh process; ``{"status": "timeout"}`` past ``timeout`` seconds."""
    command = [sys.executable, __file__, "--worker", kind, json.dumps(spec)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return {"status": f"stopped after {timeout:.0f} s", "wall_s": time.perf_counter() - start}
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return {"status": f"failed: {message[:200]}", "wall_s": time.perf_counter() - start}
    return {"status": "ok", **json.loads(done.stdout.strip().splitlines()[-1])}


# ------------------------------------------------------------- parts ------------------------------------------------
def worker_spec(args, path: Path, model: str, **extra) -> dict:
    """What a worker needs to measure ``model`` on the file at ``path`` (plus ``extra`` keys)."""
    spec = {"file": str(path), "priors": str(args.priors), "model": model, "cache": str(args.cache)}
    return {**spec, "n_jobs": args.n_jobs, **extra}


def part_fit(args) -> pd.DataFrame:
    path = cached_file(args.cache, GENOME["n_genes"], GENOME["n_cells"], args.priors)
    rows = []
    for model in args.models:
        load = load_average()
        result = run_worker("fit", worker_spec(args, path, model), args.timeout)
        rows.append({"part": "fit", "model": model, **GENOME, "n_jobs": args.n_jobs, "load_before": load, **result})
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    return pd.DataFrame(rows)


def part_scaling(args) -> pd.DataFrame:
    sizes = [("genes", g, 5_000) for g in (1_000, 5_000, 20_000)] + [("cells", 5_000, c) for c in (1_000, 10_000)]
    rows = []
    for model in args.scaling_models:
        for axis, n_genes, n_cells in sizes:
            path = cached_file(args.cache, n_genes, n_cells, args.priors)
            rows.append(_sized_fit_row(model, axis, n_genes, n_cells, worker_spec(args, path, model), args.timeout))
        # 100k cells: the file is written once, read backed (the fit reads its cell subsample and the means)
        path = cached_file(args.cache, 5_000, 100_000, args.priors)
        spec = worker_spec(args, path, model, backed=True)
        rows.append(_sized_fit_row(model, "cells (backed)", 5_000, 100_000, spec, args.timeout))
    return pd.DataFrame(rows)


def _sized_fit_row(model, axis, n_genes, n_cells, spec, timeout, part: str = "scaling") -> dict:
    load = load_average()
    row = {"part": part, "axis": axis, "model": model, "n_genes": n_genes, "n_cells": n_cells}
    row["n_jobs"] = spec["n_jobs"]
    row.update(load_before=load, **run_worker("fit", spec, timeout))
    print(pd.DataFrame([row]).to_string(index=False), flush=True)
    return row


def part_means(args) -> pd.DataFrame:
    path = backed_counts_file(args.cache, 200_000, 20_000)
    rows = []
    for tool in ("grnlink backed", "grnlink in memory", "scanpy.get.aggregate in memory"):
        load = load_average()
        result = run_worker("means", {"file": str(path), "tool": tool}, args.timeout)
        rows.append({"part": "means", "model": tool, "n_genes": 20_000, "n_cells": 200_000, "n_jobs": 1})
        rows[-1]["load_before"] = load
        rows[-1].update(result)
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    return pd.DataFrame(rows)


def part_contention(args) -> pd.DataFrame:
    """A fixed amount of work (20 epochs, no early stop) with 1 and 2 threads, idle and beside a busy process."""
    path = cached_file(args.cache, 5_000, 2_000, args.priors)
    spec = {
        "file": str(path),
        "priors": str(args.priors),
        "model": "dual_encoder",
        "cache": str(args.cache),
        "predict": False,
        "options": {"max_epochs": 20, "patience": 20},
    }
    rows = []
    conditions = [(jobs, c) for _ in range(2) for jobs in (1, 2) for c in ("idle", "competing process")]
    for jobs, condition in conditions:
        spec["n_jobs"] = jobs
        spinner = None
        if condition != "idle":
            spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            time.sleep(2.0)
        load = load_average()
        try:
            result = run_worker("fit", spec, args.timeout)
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()
        rows.append(
            {"part": "contention", "axis": condition, "model": "dual_encoder", "n_genes": 5_000, "n_jobs": jobs}
        )
        rows[-1].update(n_cells=2_000, load_before=load, **result)
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    return pd.DataFrame(rows)


ARBORETO_SCRIPT = """
import sys, time
import numpy as np, pandas as pd
from distributed import Client, LocalCluster
from arboreto.algo import genie3, grnboost2
expression = pd.read_csv(sys.argv[1], sep="\\t", index_col=0)
tfs = [line.strip() for line in open(sys.argv[2]) if line.strip()]
method = {"GRNBoost2": grnboost2, "GENIE3": genie3}[sys.argv[3]]
if __name__ == "__main__":
    start = time.perf_counter()
    with LocalCluster(n_workers=int(sys.argv[5]), threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            network = method(expression_data=expression, tf_names=tfs, client_or_address=client, seed=0)
    seconds = time.perf_counter() - start
    network.to_csv(sys.argv[4], sep="\\t", index=False)
    print(seconds)
"""


def part_peers(args) -> pd.DataFrame:
    """grnlink against arboreto on one simulated data set with a per-TF held-out split."""
    import grnlink as gl

    if args.arboreto_python is None:
        print("peers: skipped (pass --arboreto-python, see the module docstring)")
        return pd.DataFrame()
    adata = gl.ds.simulate(n_genes=2_000, n_tfs=150, n_cells=2_000, n_celltypes=8, seed=0)
    split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=0)
    args.cache.mkdir(parents=True, exist_ok=True)
    data_file, tf_file = args.cache / "peers.h5ad", args.cache / "peers_tfs.txt"
    adata.write_h5ad(data_file)
    tfs = sorted(set(split.prior["source"]))
    tf_file.write_text("\n".join(tfs))
    expression = adata.to_df()
    expression.to_csv(args.cache / "peers_expression.tsv", sep="\t")
    rows = []
    n_jobs = max(1, args.n_jobs)
    for model in (gl.tl._fit.DEFAULT_MODEL, "dual_encoder"):
        load = load_average()
        start = time.perf_counter()
        gl.tl.grn_fit(adata, split.prior, **split.fit_kwargs(), model=model, groupby="cell_type", seed=0)
        scores = gl.tl.grn_predict(adata, pairs=split.test, inplace=False)["score"].to_numpy()
        seconds = time.perf_counter() - start
        rows.append(_peer_row(f"grnlink {model}", seconds, gl.bm.evaluate(split.test, scores), load, n_jobs))
    for method in ("GRNBoost2", "GENIE3"):
        out = args.cache / f"peers_{method}.tsv"
        load = load_average()
        command = [str(args.arboreto_python), "-c", ARBORETO_SCRIPT, str(args.cache / "peers_expression.tsv")]
        command += [str(tf_file), method, str(out), str(max(1, args.arboreto_workers))]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            rows.append({**_peer_row(f"arboreto {method}", float("nan"), {}, load, args.arboreto_workers)})
            rows[-1]["status"] = f"stopped after {args.timeout:.0f} s"
            continue
        if done.returncode != 0:
            rows.append(_peer_row(f"arboreto {method}", float("nan"), {}, load, args.arboreto_workers))
            rows[-1]["status"] = "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:200]
            continue
        network = pd.read_csv(out, sep="\t")
        importance = network.set_index(["TF", "target"])["importance"]
        index = pd.MultiIndex.from_arrays([split.test["source"].astype(str), split.test["target"].astype(str)])
        scores = importance.reindex(index).fillna(0.0).to_numpy()
        seconds = float(done.stdout.strip().splitlines()[-1])
        rows.append(
            _peer_row(f"arboreto {method}", seconds, gl.bm.evaluate(split.test, scores), load, args.arboreto_workers)
        )
    for row in rows:
        print(pd.DataFrame([row]).to_string(index=False), flush=True)
    return pd.DataFrame(rows)


def _peer_row(model: str, seconds: float, metrics: dict, load: float, workers: int) -> dict:
    return {
        "part": "peers",
        "model": model,
        "n_genes": 2_000,
        "n_cells": 2_000,
        "n_jobs": workers,
        "status": "ok",
        "fit_s": seconds,
        "tf_auroc": metrics.get("tf_auroc", float("nan")),
        "tf_auprc": metrics.get("tf_auprc", float("nan")),
        "load_before": load,
    }


def part_atlas(args) -> pd.DataFrame:
    import grnlink as gl

    n_genes, n_cells = GENOME["n_genes"], 100_000
    path = cached_file(args.cache, n_genes, n_cells, args.priors)
    model = gl.tl._fit.DEFAULT_MODEL
    spec = worker_spec(args, path, model, backed=True)
    return pd.DataFrame([_sized_fit_row(model, "cells (backed)", n_genes, n_cells, spec, args.timeout, part="atlas")])


def part_units(args) -> pd.DataFrame:
    path = cached_file(args.cache, GENOME["n_genes"], GENOME["n_cells"], args.priors)
    rows = []
    for model in args.unit_models:
        load = load_average()
        result = run_worker("units", worker_spec(args, path, model, unit_seconds=args.unit_seconds), args.timeout)
        rows.append({"part": "units", "model": model, **GENOME, "n_jobs": args.n_jobs, "load_before": load, **result})
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    return pd.DataFrame(rows)


PARTS = {
    "fit": part_fit,
    "atlas": part_atlas,
    "units": part_units,
    "peers": part_peers,
    "scaling": part_scaling,
    "means": part_means,
    "contention": part_contention,
}


# ------------------------------------------------------------- report -----------------------------------------------
def exponent(frame: pd.DataFrame, size: str) -> float:
    ok = frame[(frame["status"] == "ok") & frame["fit_s"].notna()]
    if len(ok) < 2:
        return float("nan")
    return float(np.polyfit(np.log(ok[size].astype(float)), np.log(ok["fit_s"].astype(float)), 1)[0])


def report(results: pd.DataFrame, header: str) -> str:
    lines = [header, ""]
    number = {
        "tf_auroc": 3,
        "tf_auprc": 3,
        "fit_s": 1,
        "predict_s": 1,
        "peak_rss_mib": 0,
        "uns_mib": 1,
        "h5ad_model_mib": 1,
        "load_before": 1,
        "setup_s": 1,
        "seconds_per_unit": 2,
        "projected_fit_h": 1,
    }
    shown = results.copy()
    for column, digits in number.items():
        if column in shown:
            shown[column] = shown[column].astype(float).round(digits)
    fit = shown[shown["part"] == "fit"]
    if len(fit):
        columns = ["model", "n_jobs", "status", "fit_s", "predict_s", "n_pairs_scored", "n_edges_kept", "peak_rss_mib"]
        columns += ["uns_mib", "h5ad_model_mib", "load_before", "commit"]
        lines += [
            "## Fit and genome-wide predict, 20,000 genes x 5,000 cells, DoRothEA human A-D (29,086 edges)",
            "",
            "Default options of every model; predict scores every prior TF x every gene and keeps the 1,000 best",
            "targets per TF (the default above 5 million pairs). `uns_mib`: the fitted model in `adata.uns`",
            "(training curves excluded); `h5ad_model_mib`: what the fit adds to the h5ad file.",
            "",
            fit[[c for c in columns if c in fit]].to_markdown(index=False),
            "",
        ]
    units = shown[shown["part"] == "units"]
    if len(units):
        lines += [
            "## Units of work at genome scale",
            "",
            "For models whose fit took hours. Same data and prior as above. The real fit is started and stopped",
            "after about a minute of its work",
            "(at least 3 units); `seconds_per_unit`: the mean unit; `units_per_fit`: units a default fit",
            "needs (genie3: one forest per gene; gnt: at most `max_epochs` x steps per epoch x `n_ensemble`,",
            "before its SVMs);",
            "`projected_fit_h` = setup + units x seconds per unit, a **projection**, not a measured fit; the units",
            "timed are the fit's first ones, which need not be typical (genie3's first genes were cheaper than",
            "the rest: compare its row in the fit table). gnt's row predates its `context` option (2e448d5): every",
            "training step then attended over all 20,000 genes; gnt now finishes (fit table).",
            "",
            units[
                ["model", "n_jobs", "status", "unit", "setup_s", "seconds_per_unit", "n_units_timed"]
                + ["units_per_fit", "projected_fit_h", "peak_rss_mib", "load_before", "commit"]
            ].to_markdown(index=False),
            "",
        ]
    atlas = shown[shown["part"] == "atlas"]
    if len(atlas):
        lines += [
            "## The default model on 100,000 cells, 20,000 genes (sparse, read backed)",
            "",
            'The 10,000-cell simulation tiled ten times, opened `backed="r"`; DoRothEA human A-D as above.',
            "",
            atlas[
                ["model", "n_jobs", "status", "fit_s", "predict_s", "n_edges_kept", "peak_rss_mib", "uns_mib"]
                + ["load_before", "commit"]
            ].to_markdown(index=False),
            "",
        ]
    scaling = shown[shown["part"] == "scaling"]
    if len(scaling):
        lines += ["## Scaling", ""]
        lines += [
            scaling[
                [
                    "model",
                    "n_jobs",
                    "axis",
                    "n_genes",
                    "n_cells",
                    "status",
                    "fit_s",
                    "predict_s",
                    "peak_rss_mib",
                    "load_before",
                ]
            ].to_markdown(index=False),
            "",
        ]
        for model, frame in results[results["part"] == "scaling"].groupby("model", sort=False):
            genes = exponent(frame[frame["axis"] == "genes"], "n_genes")
            cells = exponent(frame[frame["axis"].str.startswith("cells")], "n_cells")
            lines.append(f"- {model}: fit seconds ~ genes^{genes:.2f} (5,000 cells), ~ cells^{cells:.2f} (5,000 genes)")
        lines.append("")
    means = shown[shown["part"] == "means"]
    if len(means):
        lines += ["## Cell-type means, 200,000 cells x 20,000 genes (sparse, 3% non-zero), 8 groups", ""]
        lines += [
            "The same h5ad file (0.97 GB, written just before, so read from the OS page cache): grnlink on the",
            'file opened `backed="r"` (row chunks of 2,000 cells) and in memory; scanpy\'s `get.aggregate` in',
            "memory. `read_s`: opening (backed) or reading the file; `seconds`: the means alone.",
            "",
        ]
        lines += [
            means[["model", "status", "seconds", "read_s", "peak_rss_mib", "load_before"]].to_markdown(index=False)
        ]
        lines.append("")
    peers = shown[shown["part"] == "peers"]
    if len(peers):
        lines += [
            "## Against arboreto, 2,000 genes x 2,000 cells (simulated, 150 TFs), per-TF split",
            "",
            "grnlink: fit on the training edges and score the test pairs (seconds: fit + predict). arboreto",
            "(GRNBoost2, GENIE3; dask 2024.2.1 and distributed 2024.2.1 in their own environment, `n_jobs` dask",
            "workers of one thread): unsupervised on the same expression and candidate TFs, a test pair scored",
            "by its importance. Per-TF AUROC on the same held-out test pairs.",
            "",
            peers[["model", "n_jobs", "status", "fit_s", "tf_auroc", "tf_auprc", "load_before"]].to_markdown(
                index=False
            ),
            "",
        ]
    contention = shown[shown["part"] == "contention"]
    if len(contention):
        lines += ["## Idle against a competing CPU-bound process (dual_encoder fit, 5,000 genes x 2,000 cells)", ""]
        lines += [contention[["n_jobs", "axis", "status", "fit_s", "load_before"]].to_markdown(index=False), ""]
        ok = results[(results["part"] == "contention") & (results["status"] == "ok")]
        for jobs, frame in ok.groupby("n_jobs"):
            by = frame.groupby("axis")["fit_s"].mean()
            if {"idle", "competing process"} <= set(by.index):
                ratio = by["competing process"] / by["idle"]
                lines.append(f"- n_jobs={jobs}: {ratio:.2f}x slower beside the busy process (mean of the runs)")
        lines.append("")
    return "\n".join(lines)


def figure(results: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scaling = results[(results["part"] == "scaling") & (results["status"] == "ok")]
    if not len(scaling):
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, (axis, size) in zip(axes, (("genes", "n_genes"), ("cells", "n_cells"))):
        for model, frame in scaling[scaling["axis"].str.startswith(axis)].groupby("model", sort=False):
            frame = frame.sort_values(size)
            ax.loglog(frame[size], frame["fit_s"], marker="o", label=f"{model} fit")
            ax.loglog(frame[size], frame["predict_s"], marker="s", ls="--", label=f"{model} predict")
        ax.set_xlabel(f"{axis} ({'5,000 cells' if axis == 'genes' else '5,000 genes; 100k read backed'})")
        ax.set_ylabel("seconds")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")


def main() -> None:
    import grnlink as gl

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=sorted(PARTS), default=list(PARTS))
    parser.add_argument("--models", nargs="+", default=gl.models.available_models())
    parser.add_argument("--scaling-models", nargs="+", default=["dual_encoder", "degree_adjusted"])
    parser.add_argument("--unit-models", nargs="+", default=["genie3"])
    parser.add_argument("--unit-seconds", type=float, default=60.0, help="seconds of units the units part times")
    parser.add_argument("--priors", type=Path, default=DEFAULT_PRIORS)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/grnlink_scale"))
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds one measurement may take")
    parser.add_argument("--n-jobs", type=int, default=1, help="scanpy n_jobs of each fit (1 is scanpy's default)")
    parser.add_argument("--arboreto-python", type=Path, default=None, help="python of an environment with arboreto")
    parser.add_argument("--arboreto-workers", type=int, default=2, help="dask workers (1 thread each) for arboreto")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--merge", action="store_true", help="keep the existing scale.csv rows of other parts/models")
    parser.add_argument("--report", action="store_true", help="only rewrite scale.md and scale.png from scale.csv")
    args = parser.parse_args()
    header = (
        "# Scale\n\n"
        f"Environment: {environment()}; every measurement in its own process, one at a time. `load_before`: the\n"
        "one-minute load average just before each measurement (2 means both cores busy with other work).\n"
    )
    stem = args.out / "scale"
    if args.report:
        results = pd.read_csv(stem.with_suffix(".csv"), dtype={"axis": str})
        machine = environment().split(", ", 2)[2].split(", load average")[0]  # cores and threads, not commit or load
        header = header.replace(environment(), f"{machine}; each row names the commit it was measured at")
    else:
        results = measure(args, stem)
    commands = results.drop_duplicates("command")[["command", "commit"]].itertuples(index=False)
    header += "\nCommands (in this order; their rows merged into one table, a later row replacing an earlier one):\n\n"
    header += "\n".join(f"- `{command}` (commit {commit})" for command, commit in commands) + "\n"
    text = report(results, header)
    stem.with_suffix(".md").write_text(text)
    print(text)
    figure(results, stem.with_suffix(".png"))


def measure(args, stem: Path) -> pd.DataFrame:
    """Run the parts asked for and write scale.csv (merged with the existing rows when asked); the rows."""
    frames = [PARTS[part](args) for part in args.parts]
    results = pd.concat(frames, ignore_index=True)
    results["commit"] = environment().split(" at commit ")[1].split(",")[0]
    results["command"] = f"python benchmarks/scale.py {' '.join(sys.argv[1:])}"
    if args.merge and stem.with_suffix(".csv").exists():
        old = pd.read_csv(stem.with_suffix(".csv"), dtype={"axis": str})
        key = ["part", "model", "axis", "n_genes", "n_cells", "n_jobs"]
        for frame in (old, results):
            frame["axis"] = frame.get("axis", pd.Series(index=frame.index, dtype=str)).fillna("")
            frame["n_jobs"] = frame.get("n_jobs", pd.Series(1, index=frame.index)).fillna(1).astype(int)
        replaced = old.set_index(key).index.isin(results.set_index(key).index)
        results = pd.concat([old[~replaced], results], ignore_index=True)
    args.out.mkdir(parents=True, exist_ok=True)
    results.to_csv(stem.with_suffix(".csv"), index=False)
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(WORKERS[sys.argv[2]](json.loads(sys.argv[3]))))
    else:
        main()
