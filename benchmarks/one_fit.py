"""One fit of one model on one shared BEELINE network: fit seconds and per-TF AUROC on validation and test pairs.

The per-TF split of :func:`grnlink.bm.split` (seed as given) trains the model
with ``split.fit_kwargs()`` and ``groupby="condition"``, with one torch
thread; the fitted model scores the split's validation pairs (the decision
metric for an option; early stopping also reads them) and its test pairs
(reported only). Options are a JSON object. Prints one JSON line; for a
``stack``, also each base's out-of-fold per-TF AUROC, meta-learner weight and
the final refit's epochs.

Run from the repository root::

    python benchmarks/one_fit.py hHEP Specific 0 sctransnet '{"ranking_weight": 1.0}'
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
import scanpy as sc
import torch
from _report import DEFAULT_DATA

import grnlink as gl
from grnlink._metrics import mean_tf_auroc


def as_list(value) -> list:
    return np.asarray(value).ravel().tolist()


def main() -> None:
    dataset, network, seed, model = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    options = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
    torch.set_num_threads(1)
    sc.settings.verbosity = 0
    adata = gl.ds.beeline(DEFAULT_DATA / network / dataset / "TFs+500")
    split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=seed)
    start = time.perf_counter()
    gl.tl.grn_fit(adata, split.prior, model=model, groupby="condition", seed=seed, **split.fit_kwargs(), **options)
    out = {"ds": dataset, "net": network, "seed": seed, "model": model, "opts": options}
    out["fit_s"] = round(time.perf_counter() - start, 1)
    for part in ("val", "test"):
        table = getattr(split, part)
        scored = gl.tl.grn_predict(adata, pairs=table[["source", "target"]], inplace=False)
        tf = pd.factorize(table["source"])[0]
        out[part] = round(mean_tf_auroc(tf, table["label"].to_numpy(), scored["score"].to_numpy()), 4)
    history = adata.uns["grn"]["training"]
    if model == "stack":
        for name, base in history["bases"].items():
            final = base.get("final", {})
            out[name] = {
                "oof_tf": as_list(base["tf_auroc"]),
                "coef": as_list(base["coef"]),
                "epochs": as_list(final.get("n_epochs", [])),
                "best": as_list(final.get("best_epoch", [])),
            }
        out["meta"] = np.round(np.asarray(history["meta"]["coef"], dtype=float), 2).tolist()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
