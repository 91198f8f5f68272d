"""Synthetic scRNA-seq counts driven by a known gene-regulatory network."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Literal

import numpy as np
import pandas as pd
import scanpy as sc
import scipy.sparse as sp
from anndata import AnnData

from .._settings import info
from .._validation import InputError, check_args, number_in, one_of
from ._sergio import sergio_log_rates

_MIN_TARGETS = 3  # every TF regulates at least this many genes
_MAX_REGULATORS = 3  # a non-TF gene has 1 to this many regulating TFs
_N_REGULATOR_P = (0.7, 0.2, 0.1)  # probability of 1, 2, 3 regulators per gene


def simulate(
    n_genes: int = 500,
    n_tfs: int = 50,
    n_cells: int = 2000,
    n_celltypes: int = 8,
    *,
    seed: int = 0,
    signal: float = 0.3,
    dropout: float = 0.2,
    noise: float = 0.3,
    dispersion: float = 0.3,
    confounding: float = 0.15,
    activity_noise: float = 1.0,
    inactive_fraction: float = 0.3,
    activating_fraction: float = 0.7,
    tf_edge_fraction: float = 0.2,
    library_size: float = 3000.0,
    library_size_sd: float = 0.4,
    group_specific: float = 0.0,
    method: Literal["grnlink", "sergio"] = "grnlink",
) -> AnnData:
    """Simulate single-cell counts whose genes are regulated by a known TF network.

    Targets respond to their regulators' activity through a saturating (Hill)
    function, activated or repressed by the sign of the edge; cell types differ
    in which TFs are expressed and active; count noise and dropout come on top.
    A TF's activity depends on a hidden state (a cell-type modifier and per-cell
    noise, e.g. post-translational activation) besides its mRNA. One knob,
    ``signal``, sets how much of that state the TF's own mRNA shows, and with it
    how visible the network is in TF-target co-expression: at 1 the TF's mRNA
    carries its whole hidden state and true edges stand out by correlation
    (easy); at 0 it carries none, and TF-target correlation is near chance as on
    BEELINE's real data. At every setting the targets of one TF share that TF's
    activity, so a supervised model that sees some of a TF's targets can find
    the others. ``signal=0`` gives the output of grnlink before the knob existed,
    bit for bit.

    Generative story, in order:

    1. **Network.** The first ``n_tfs`` genes are TFs (``TF001`` ...), the others
       targets (``G0001`` ...). Each TF first gets 3 distinct targets; then every
       target draws 1-3 regulators (probabilities 0.7/0.2/0.1), the missing ones
       by preferential attachment (probability proportional to out-degree + 1),
       which gives a heavy-tailed out-degree. A fraction ``tf_edge_fraction`` of
       TFs is regulated by one earlier TF (acyclic TF->TF edges). Every edge has
       a sign (activating with probability ``activating_fraction``) and a
       magnitude drawn from U(1.0, 2.5): the change of the target's log rate at
       full TF activity.
    2. **Cell types.** Unequal sizes: proportions 0.3 / n_celltypes + 0.7 x
       Dirichlet(1.5), so no type is tiny; cells are shuffled.
    3. **TF state.** Per TF, its log mRNA has a baseline (N(0, 0.5), lower and
       less variable than the targets'), a cell-type offset (N(0, 0.6) per TF
       and type), per-cell fluctuation (N(0, 0.5)) and the input of its TF
       regulators (step 5). Its hidden state: a modifier per cell type
       (post-translational activation, cofactors), log-normal (sd 1), and 0.05
       (the TF is present but inactive) in a fraction ``inactive_fraction`` of
       (TF, cell type) pairs; and per-cell noise, log-normal (sd
       ``activity_noise``). The TF's log mRNA gains ``signal`` x (log modifier +
       log noise): the share of the hidden state that its mRNA shows (as if an
       active TF also raised its own transcription).
    4. **TF activity** = h(mRNA) x modifier x noise, with
       h(m) = m^2 / (median(m)^2 + m^2) the saturating response to the TF's own
       mRNA; the per-cell noise is shared by all targets of the TF. ``signal``
       does not change the activity's hidden part, only how much of it the
       TF's mRNA shows (and, through h, a little more of it).
    5. **Regulation.** log rate of a gene = baseline (targets N(0.5, 1)) +
       confounder + sum over its regulators of ``weight`` x Hill(activity), with
       Hill(a) = a^n / (K^n + a^n) in [0, 1), K = the TF's mean activity x a
       per-edge factor exp(N(0, 0.3)), and n ~ U(1, 2) per edge. ``weight`` > 0
       activates, < 0 represses. TFs are processed in an order in which TF->TF
       edges point forward, so a regulated TF's mRNA, and with it its activity,
       carries its regulator's input.
       Confounders: every gene (TFs too) follows one of ``max(2, n_celltypes //
       2)`` cell-type programs unrelated to the network, with loading
       ``confounding`` x N(0, 1). Group-specific edges (``group_specific`` > 0):
       ``round(group_specific x number of edges)`` random edges act only in 1 to
       ``max(1, n_celltypes // 2)`` random cell types (uniform count, then
       uniform types); in the other types their term is zero, so the regulator
       does not drive that target there. These draws come from a second
       generator derived from ``seed``, so the network, weights, cell types and
       every other draw are the same as with ``group_specific=0``; only the
       gated terms differ.
    6. **Counts.** Independent per-cell, per-gene log-normal noise (``noise``),
       library sizes log-normal around ``library_size`` (``library_size_sd``),
       negative-binomial counts (gamma-Poisson, ``dispersion``; 0 is Poisson),
       then extra dropout: each count is zeroed with probability
       ``2 * dropout / (1 + rate / median rate)``, capped at 1 (lowly expressed
       genes drop out more often).

    How much the network shows: the pooled AUROC of absolute Pearson r between
    a TF's and a gene's log expression (``X``) for telling the true edges from
    every other TF x gene pair (TF != gene), mean (min-max) over seeds 0-4, at
    the default size and at 250 genes, 25 TFs, 1,200 cells and 6 cell types, as
    ``benchmarks/simulate.py`` measured it (``benchmarks/results/simulate.md``,
    which also has the per-TF figures):

    ===============  =====================  ======================
    ``signal``       default size           250 genes, 1,200 cells
    ===============  =====================  ======================
    0 (hidden)       0.615 (0.600-0.630)    0.554 (0.493-0.582)
    0.1              0.720 (0.701-0.738)    0.662 (0.610-0.699)
    0.2              0.797 (0.780-0.812)    0.739 (0.697-0.765)
    0.3 (default)    0.849 (0.837-0.860)    0.797 (0.765-0.810)
    0.5              0.901 (0.887-0.917)    0.864 (0.817-0.896)
    1 (easy)         0.930 (0.922-0.942)    0.912 (0.886-0.928)
    ===============  =====================  ======================

    At every setting the targets of one TF co-vary: the mean per-cell profile of
    two thirds of a TF's targets finds the other third (median per-TF AUROC
    about 0.97 at the defaults and at ``signal=0``), which is what a supervised
    model can learn where correlation alone cannot.

    Parameters
    ----------
    n_genes
        Number of genes, TFs included.
    n_tfs
        Number of TFs; needs ``n_genes - n_tfs >= max(n_tfs, 3)``.
    n_cells
        Number of cells.
    n_celltypes
        Number of cell types (at least 2).
    seed
        Seed of the :class:`numpy.random.Generator`; equal seeds give equal data.
    signal
        Share, in [0, 1], of each TF's hidden activity state (log scale) that its own mRNA shows (step 3): 1 makes
        the network plain in TF-target co-expression (easy), 0 hides it there as on real data (BEELINE-like); the
        table above gives the figure at each setting. The same seed gives the same network, cell types and random
        draws at every value; only the TFs' mRNA, and what follows from it, differs.
    dropout
        Extra dropout on top of the count noise, in [0, 0.5].
    noise
        Standard deviation of independent per-cell, per-gene log-normal noise.
    dispersion
        Negative-binomial dispersion (variance = mean + dispersion x mean^2).
    confounding
        Strength of the network-unrelated cell-type programs.
    activity_noise
        Standard deviation of the per-cell log-normal variation of TF activity.
    inactive_fraction
        Fraction of (TF, cell type) pairs where the TF is inactive (at ``signal=0`` its mRNA does not show it).
    activating_fraction
        Probability that an edge activates its target.
    tf_edge_fraction
        Fraction of TFs that are themselves regulated by another TF.
    library_size
        Mean total counts per cell.
    library_size_sd
        Standard deviation of the log library size.
    group_specific
        Fraction of the true edges, in [0, 1), that are active in some cell types only (step 5). With the
        default 0 every edge is active in every cell type, and ``X``, the counts, the cell types and the network
        are the same as before this option existed, bit for bit, for every seed.
    method
        ``"grnlink"`` (default): steps 3-5 above. ``"sergio"``: steps 3-5 are replaced by SERGIO (Dibaeinia &
        Sinha 2020, the simulator BEELINE used; ``pip install 'grnlink[sergio]'``), which integrates a chemical
        Langevin equation per gene on the same network: Hill terms of each regulator (n = 2, maximal
        contribution 2 x ``weight``, so repressing edges lower production), master regulators (genes no
        other gene regulates) at a low (U(1, 2.5)) or high (U(3.5, 5)) production rate per cell type, decay
        0.8, intrinsic noise 1; each cell is a snapshot of its type's steady-state trajectory
        (:mod:`grnlink.ds._sergio`). Network, cell types and step 6 (counts) are as with ``"grnlink"``;
        ``signal``, ``confounding``, ``activity_noise`` and ``inactive_fraction`` do not apply, and
        ``group_specific`` must be 0. Slower (pure-Python integration: about 30 s at 250 genes x 1,200
        cells). Pooled ``|r|`` AUROC of the true edges, measured on the issue-23 size (250 genes, 25 TFs, 1,200
        cells, 6 types): 0.747 (seed 0) and 0.699 (seed 1).

    Returns
    -------
    AnnData (cells x genes) with

    - ``X``: log1p of counts normalised to 1e4 per cell (CSR, float32), made by
      :func:`scanpy.pp.normalize_total` and :func:`scanpy.pp.log1p`, which leave
      ``uns["log1p"]`` for scanpy functions downstream,
    - ``layers["counts"]``: the integer counts (CSR, float32),
    - ``obs["cell_type"]``: categorical ``ct0``, ``ct1``, ...,
    - ``var["is_tf"]``: whether a gene is a TF,
    - ``uns["true_network"]``: DataFrame ``source``, ``target``, ``weight``
      (signed log-fold effect at full activity), ``groups`` (str: the cell types,
      as named in ``obs["cell_type"]`` and in category order, where the edge is
      active, joined by ``","``; every type is listed for a global edge, so
      ``net["groups"].str.split(",")`` always gives the active types),
    - ``uns["simulate"]``: the parameters used.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=200, n_tfs=20, n_cells=500, n_celltypes=5, seed=1)
    >>> adata.shape
    (500, 200)
    >>> net = adata.uns["true_network"]
    >>> list(net.columns)
    ['source', 'target', 'weight', 'groups']
    >>> bool(net.groupby("source").size().min() >= 3)
    True
    >>> net["groups"].iloc[0]
    'ct0,ct1,ct2,ct3,ct4'
    >>> gs = gl.ds.simulate(n_genes=200, n_tfs=20, n_cells=500, n_celltypes=5, seed=1, group_specific=0.3)
    >>> n_active = gs.uns["true_network"]["groups"].str.split(",").str.len()
    >>> round(float((n_active < 5).mean()), 2), int(n_active.max()), int(n_active.min())
    (0.3, 5, 1)
    """
    params = {
        "n_genes": n_genes,
        "n_tfs": n_tfs,
        "n_cells": n_cells,
        "n_celltypes": n_celltypes,
        "seed": seed,
        "signal": signal,
        "dropout": dropout,
        "noise": noise,
        "dispersion": dispersion,
        "confounding": confounding,
        "activity_noise": activity_noise,
        "inactive_fraction": inactive_fraction,
        "activating_fraction": activating_fraction,
        "tf_edge_fraction": tf_edge_fraction,
        "library_size": library_size,
        "library_size_sd": library_size_sd,
        "group_specific": group_specific,
        "method": method,
    }
    _check_args(params)
    rng = np.random.default_rng(seed)

    names = _gene_names(n_genes, n_tfs)
    celltype_names = [f"ct{k}" for k in range(n_celltypes)]
    edges = _sample_network(rng, n_genes, n_tfs, activating_fraction, tf_edge_fraction)
    edges["active"] = _edge_activity(seed, len(edges["source"]), n_celltypes, group_specific)
    celltype = _sample_cell_types(rng, n_cells, n_celltypes)
    if method == "sergio":
        log_rate = sergio_log_rates(rng, edges, celltype, n_genes, n_celltypes)
    else:
        programs = _confounder_programs(rng, n_genes, n_celltypes, confounding)
        log_rate = _log_rates(rng, edges, celltype, programs, n_tfs, signal, activity_noise, inactive_fraction)
    counts = _counts(rng, log_rate, noise, dispersion, dropout, library_size, library_size_sd)

    adata = AnnData(
        X=counts.copy(),
        obs=pd.DataFrame(
            {"cell_type": pd.Categorical.from_codes(celltype, celltype_names)},
            index=_numbered("cell", n_cells, start=0, width=4),
        ),
        var=pd.DataFrame({"is_tf": np.arange(n_genes) < n_tfs}, index=names),
    )
    adata.layers["counts"] = counts
    # scanpy's own progress lines would only repeat the summary logged below
    with sc.settings.verbosity.override(min(int(sc.settings.verbosity), 1)):
        sc.pp.normalize_total(adata, target_sum=1e4)
        sc.pp.log1p(adata)
    adata.uns["true_network"] = pd.DataFrame(
        {
            "source": names[edges["source"]].astype(object),
            "target": names[edges["target"]].astype(object),
            "weight": edges["weight"].astype(np.float64),
            "groups": _active_group_names(edges["active"], celltype_names),
        }
    )
    adata.uns["simulate"] = {
        k: v if isinstance(v, str) else int(v) if isinstance(v, Integral) else float(v) for k, v in params.items()
    }
    n_specific = int((~edges["active"].all(axis=0)).sum())
    info(
        f"simulated {n_cells} cells x {n_genes} genes ({n_tfs} TFs, {n_celltypes} cell types) "
        f"with {len(edges['source'])} true edges"
        + (f" ({n_specific} of them group-specific)" if group_specific > 0 else "")
        + " in adata.uns['true_network']"
    )
    return adata


# --- arguments -----------------------------------------------------------------


def _check_args(p: dict) -> None:
    """Raise :class:`InputError` naming the bad argument and a valid choice."""
    check_args(
        group_specific=(p["group_specific"], number_in(0, 1)),
        signal=(p["signal"], number_in(0, 1, high_open=False)),
        method=(p["method"], one_of("grnlink", "sergio")),
    )
    if p["method"] == "sergio" and p["group_specific"] > 0:
        raise InputError(
            f"group_specific={p['group_specific']} gates edges per cell type, which method='sergio' does not "
            "simulate; pass group_specific=0 or method='grnlink'."
        )
    for name in ("n_genes", "n_tfs", "n_cells", "n_celltypes", "seed"):
        value = p[name]
        if not isinstance(value, Integral) or isinstance(value, bool):
            raise InputError(f"{name} must be an integer, got {value!r} ({type(value).__name__}). Pass e.g. {name}=10.")
        if value < (0 if name == "seed" else 1):
            raise InputError(f"{name}={value} must be {'non-negative' if name == 'seed' else 'at least 1'}.")
    for name in (
        "dropout",
        "noise",
        "dispersion",
        "confounding",
        "activity_noise",
        "inactive_fraction",
        "activating_fraction",
        "tf_edge_fraction",
        "library_size",
        "library_size_sd",
    ):
        value = p[name]
        if not isinstance(value, Real) or isinstance(value, bool) or not np.isfinite(value) or value < 0:
            raise InputError(f"{name} must be a finite non-negative number, got {value!r}.")
    for name in ("inactive_fraction", "activating_fraction", "tf_edge_fraction"):
        if p[name] > 1:
            raise InputError(f"{name}={p[name]} is a probability; pass a value between 0 and 1.")
    if p["dropout"] > 0.5:
        raise InputError(
            f"dropout={p['dropout']} is too high: genes at median expression would lose more than half their "
            "counts on top of the count noise. Pass a value between 0 and 0.5 (default 0.2)."
        )
    if p["library_size"] < 1:
        raise InputError(f"library_size={p['library_size']} must be at least 1 count per cell, e.g. 3000.")
    n_genes, n_tfs, n_cells, n_celltypes = p["n_genes"], p["n_tfs"], p["n_cells"], p["n_celltypes"]
    if n_tfs >= n_genes:
        raise InputError(f"n_tfs={n_tfs} must be smaller than n_genes={n_genes}: the first n_tfs genes are the TFs.")
    n_targets = n_genes - n_tfs
    if n_targets < max(n_tfs, _MIN_TARGETS):
        raise InputError(
            f"n_genes - n_tfs = {n_targets} non-TF genes are too few to give each of the {n_tfs} TFs "
            f"{_MIN_TARGETS} targets with at most {_MAX_REGULATORS} regulators per gene. "
            f"Use n_genes >= {n_tfs + max(n_tfs, _MIN_TARGETS)} or fewer TFs."
        )
    if n_celltypes < 2:
        raise InputError(f"n_celltypes={n_celltypes} must be at least 2: cell types drive the network's activity.")
    if n_cells < 2 * n_celltypes:
        raise InputError(
            f"n_cells={n_cells} is too few for {n_celltypes} cell types; use n_cells >= {2 * n_celltypes} "
            "(two cells per cell type at least) or fewer cell types."
        )


# --- names ---------------------------------------------------------------------


def _numbered(prefix: str, n: int, *, start: int, width: int) -> np.ndarray:
    """``prefix`` followed by zero-padded numbers ``start`` .. ``start + n - 1``."""
    width = max(width, len(str(start + n - 1)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(start, start + n)], dtype=object)


def _gene_names(n_genes: int, n_tfs: int) -> np.ndarray:
    """TF names (``TF001`` ...) followed by target names (``G0001`` ...)."""
    return np.concatenate([_numbered("TF", n_tfs, start=1, width=3), _numbered("G", n_genes - n_tfs, start=1, width=4)])


# --- network -------------------------------------------------------------------


def _sample_network(
    rng: np.random.Generator, n_genes: int, n_tfs: int, activating_fraction: float, tf_edge_fraction: float
) -> dict[str, np.ndarray]:
    """Signed TF -> gene edges as arrays ``source``, ``target`` (gene positions) and ``weight``."""
    n_targets = n_genes - n_tfs
    regulators: list[list[int]] = [[] for _ in range(n_targets)]
    # every TF gets _MIN_TARGETS distinct targets; a target gets at most ceil(3 n_tfs / n_targets) <= 3 of them
    perm = rng.permutation(n_targets)
    for tf in range(n_tfs):
        for j in range(_MIN_TARGETS):
            regulators[perm[(_MIN_TARGETS * tf + j) % n_targets]].append(tf)
    out_degree = np.bincount([tf for regs in regulators for tf in regs], minlength=n_tfs).astype(np.float64)
    wanted = rng.choice(np.arange(1, _MAX_REGULATORS + 1), size=n_targets, p=_N_REGULATOR_P)
    for g in rng.permutation(n_targets):  # preferential attachment: P(tf) ~ out-degree + 1
        while len(regulators[g]) < wanted[g]:
            p = out_degree + 1.0
            p[regulators[g]] = 0.0
            tf = int(rng.choice(n_tfs, p=p / p.sum()))
            regulators[g].append(tf)
            out_degree[tf] += 1
    source = [tf for regs in regulators for tf in regs]
    target = [n_tfs + g for g, regs in enumerate(regulators) for _ in regs]
    # acyclic TF -> TF edges: a TF may be regulated by a TF earlier in a random order
    order = rng.permutation(n_tfs)
    for pos in range(1, n_tfs):
        if rng.random() < tf_edge_fraction:
            source.append(int(order[rng.integers(pos)]))
            target.append(int(order[pos]))
    n_edges = len(source)
    sign = np.where(rng.random(n_edges) < activating_fraction, 1.0, -1.0)
    weight = sign * rng.uniform(1.0, 2.5, n_edges)
    return {"source": np.asarray(source), "target": np.asarray(target), "weight": weight, "tf_order": order}


def _edge_activity(seed: int, n_edges: int, n_celltypes: int, group_specific: float) -> np.ndarray:
    """Cell types x edges, True where an edge acts: all True unless ``group_specific`` > 0.

    The draws use their own generator (a child of ``SeedSequence(seed)``), so the main stream, and with it
    everything else the simulator draws, is the same whatever ``group_specific`` is.
    """
    active = np.ones((n_celltypes, n_edges), dtype=bool)
    n_specific = int(round(group_specific * n_edges))
    if n_specific == 0:
        return active
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    max_types = max(1, n_celltypes // 2)
    for e in rng.choice(n_edges, n_specific, replace=False):
        active[:, e] = False
        active[rng.choice(n_celltypes, rng.integers(1, max_types + 1), replace=False), e] = True
    return active


def _active_group_names(active: np.ndarray, celltype_names: list[str]) -> np.ndarray:
    """Per edge, the comma-joined names of the cell types where it is active (all of them for global edges)."""
    names = np.asarray(celltype_names, dtype=object)
    return np.array([",".join(names[col]) for col in active.T], dtype=object)


# --- cells -----------------------------------------------------------------------


def _sample_cell_types(rng: np.random.Generator, n_cells: int, n_celltypes: int) -> np.ndarray:
    """Shuffled cell-type codes with unequal sizes, each type at least 2 cells (and 30% of an even share)."""
    proportions = 0.3 / n_celltypes + 0.7 * rng.dirichlet(np.full(n_celltypes, 1.5))
    sizes = 2 + rng.multinomial(n_cells - 2 * n_celltypes, proportions)
    return rng.permutation(np.repeat(np.arange(n_celltypes), sizes))


def _confounder_programs(rng: np.random.Generator, n_genes: int, n_celltypes: int, strength: float) -> np.ndarray:
    """Network-unrelated log-rate offsets (cell types x genes): each gene follows one random program."""
    n_programs = max(2, n_celltypes // 2)
    patterns = rng.normal(size=(n_celltypes, n_programs))
    membership = rng.integers(n_programs, size=n_genes)
    loading = strength * rng.normal(size=n_genes)
    return patterns[:, membership] * loading


def _hill(x: np.ndarray, k: np.ndarray | float, n: np.ndarray | float) -> np.ndarray:
    """Saturating response ``x^n / (k^n + x^n)`` in [0, 1)."""
    xn = np.power(x, n)
    return xn / (np.power(k, n) + xn)


def _log_rates(
    rng: np.random.Generator,
    edges: dict[str, np.ndarray],
    celltype: np.ndarray,
    programs: np.ndarray,
    n_tfs: int,
    signal: float,
    activity_noise: float,
    inactive_fraction: float,
) -> np.ndarray:
    """Relative log expression rates (cells x genes) before library size and count noise (steps 3-5)."""
    (n_celltypes, n_genes), n_cells = programs.shape, len(celltype)
    log_rate = np.empty((n_cells, n_genes))
    log_rate[:, :n_tfs] = rng.normal(0.0, 0.5, n_tfs)  # TFs: lower and less variable than targets
    log_rate[:, n_tfs:] = rng.normal(0.5, 1.0, n_genes - n_tfs)
    log_rate += programs[celltype]
    # TF state per cell type: mRNA offset and hidden activity modifier (0.05 where inactive)
    mrna_offset = rng.normal(0.0, 0.6, (n_celltypes, n_tfs))
    modifier = np.exp(rng.normal(0.0, 1.0, (n_celltypes, n_tfs)))
    modifier[rng.random((n_celltypes, n_tfs)) < inactive_fraction] = 0.05
    log_rate[:, :n_tfs] += mrna_offset[celltype] + rng.normal(0.0, 0.5, (n_cells, n_tfs))
    src, tgt, weight, active = edges["source"], edges["target"], edges["weight"], edges["active"]
    gated = ~active.all(axis=0)  # group-specific edges: no effect in the cell types where they are inactive
    hill_n = rng.uniform(1.0, 2.0, len(src))
    threshold = np.exp(rng.normal(0.0, 0.3, len(src)))
    log_modifier = np.log(modifier)
    for tf in edges["tf_order"]:  # TF -> TF edges point forward in this order, so inputs are final
        log_noise = activity_noise * rng.normal(size=n_cells)
        # the share `signal` of the hidden state that the TF's own mRNA shows (adding 0.0 leaves it bit for bit)
        log_rate[:, tf] += signal * (log_modifier[celltype, tf] + log_noise)
        activity = _tf_activity(log_rate[:, tf], modifier[celltype, tf], np.exp(log_noise))
        for e in np.flatnonzero(src == tf):
            effect = weight[e] * _hill(activity, activity.mean() * threshold[e], hill_n[e])
            if gated[e]:
                effect = np.where(active[celltype, e], effect, 0.0)
            log_rate[:, tgt[e]] += effect
    return log_rate


def _tf_activity(log_mrna: np.ndarray, modifier: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Per-cell TF activity: Hill function of its mRNA x hidden cell-type modifier x per-cell noise (step 4)."""
    mrna = np.exp(log_mrna)
    return _hill(mrna, np.median(mrna), 2.0) * modifier * noise


# --- counts --------------------------------------------------------------------


def _counts(
    rng: np.random.Generator,
    log_rate: np.ndarray,
    noise: float,
    dispersion: float,
    dropout: float,
    library_size: float,
    library_size_sd: float,
) -> sp.csr_matrix:
    """Negative-binomial counts with library-size variation and extra dropout (CSR, float32)."""
    n_cells, n_genes = log_rate.shape
    rate = np.exp(log_rate + noise * rng.normal(size=log_rate.shape))
    rate /= rate.sum(axis=1, keepdims=True)
    size = library_size * np.exp(library_size_sd * rng.normal(size=(n_cells, 1)) - library_size_sd**2 / 2)
    mean = rate * size
    if dispersion > 0:
        mean = rng.gamma(1.0 / dispersion, mean * dispersion)
    counts = rng.poisson(mean)
    p_drop = np.minimum(1.0, 2.0 * dropout / (1.0 + rate / np.median(rate)))
    counts[rng.random(counts.shape) < p_drop] = 0
    return sp.csr_matrix(counts.astype(np.float32))
