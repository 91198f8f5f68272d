"""Expression from SERGIO (Dibaeinia & Sinha 2020), the simulator BEELINE used: ``simulate(method="sergio")``.

SERGIO (package ``sergio-scsim``, the ``sergio`` extra; GPL-3.0, so it is only
imported here, at call time, and no code of it is part of grnlink, as scanpy
does with ``leidenalg``) integrates a chemical
Langevin equation per gene: production is the sum over the gene's regulators
of Hill terms (activating edges rise with the regulator's concentration,
repressing ones fall), master regulators (genes nobody regulates) have a fixed
production rate per cell type, and every gene decays at a constant rate with
intrinsic noise on both. Cells are snapshots of each cell type's steady-state
trajectory. :func:`sergio_log_rates` turns grnlink's sampled network into
SERGIO's input and its snapshots into the relative log rates that
:func:`grnlink.ds.simulate`'s count layer (library size, count noise, dropout)
then samples, so both methods share the network, the cell types and the
technical noise.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .._validation import InputError

HILL_N = 2.0  # Hill coefficient of every edge (SERGIO's default)
DECAY = 0.8  # decay rate of every gene (SERGIO's default)
K_SCALE = 2.0  # grnlink's edge magnitudes U(1, 2.5) -> SERGIO's maximal contributions U(2, 5)
LOW_PRODUCTION, HIGH_PRODUCTION = (1.0, 2.5), (3.5, 5.0)  # a master regulator's rate per cell type (SERGIO's ranges)
INTRINSIC_NOISE = 1.0  # amplitude of the Langevin noise (SERGIO's noise_params)
SCALE_ITER = 5  # simulated steps per sampled cell: a cell is a snapshot among SCALE_ITER x n_cells steps
PSEUDOCOUNT = 1e-2  # added to a concentration before the log (SERGIO clips concentrations at 0)


def sergio_log_rates(
    rng: np.random.Generator, edges: dict[str, np.ndarray], celltype: np.ndarray, n_genes: int, n_celltypes: int
) -> np.ndarray:
    """Relative log expression rates (cells x genes) of cells simulated by SERGIO on the network ``edges``.

    ``edges`` must be acyclic (SERGIO orders genes by regulatory level).
    ``celltype`` gives each cell's type; the cells of one type get that
    type's SERGIO snapshots. SERGIO draws from numpy's global
    generator: it is seeded from ``rng`` and restored afterwards, so the
    caller's global random state is left as it was.
    """
    SERGIO = _import_sergio()
    from SERGIO.GRN import GRN, Gene, SingleInteraction
    from SERGIO.MR import mrProfile

    names = [str(g) for g in range(n_genes)]
    grn = GRN()
    for source, target, weight in zip(edges["source"], edges["target"], edges["weight"]):
        grn.add_interaction(
            SingleInteraction(
                reg=[Gene(name=names[source], decay=DECAY)],
                tar=Gene(name=names[target], decay=DECAY),
                k=float(K_SCALE * weight),
                h=None,
                n=HILL_N,
            )
        )
    grn.setMRs()
    masters = sorted(grn.get_mrs(), key=int)
    profile = mrProfile(MR_names=masters, n_types=n_celltypes)
    high = rng.random((len(masters), n_celltypes)) < 0.5
    low_rate, high_rate = rng.uniform(*LOW_PRODUCTION, high.shape), rng.uniform(*HIGH_PRODUCTION, high.shape)
    profile.profile = {mr: np.where(high[i], high_rate[i], low_rate[i]) for i, mr in enumerate(masters)}
    sizes = np.bincount(celltype, minlength=n_celltypes)
    with _global_seed(int(rng.integers(2**32))):
        grn.init(profile, update_half_resp=True)
        simulator = SERGIO.sergio(grn)
        simulator.simulate(nCells=sizes.tolist(), noise_s=INTRINSIC_NOISE, scale_iter=SCALE_ITER)
        snapshots = simulator.getSimExpr()  # genes x cells, cells grouped by type in order
    concentration = snapshots.loc[names].to_numpy(dtype=np.float64).T
    out = np.empty((len(celltype), n_genes))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for k in range(n_celltypes):
        out[celltype == k] = concentration[starts[k] : starts[k] + sizes[k]]
    return np.log(out + PSEUDOCOUNT)


def _import_sergio():
    try:
        import SERGIO
    except ImportError as error:
        raise InputError(
            "simulate(method='sergio') needs the SERGIO simulator: pip install 'grnlink[sergio]' "
            "(or pip install sergio-scsim), or use method='grnlink'."
        ) from error
    return SERGIO


@contextmanager
def _global_seed(seed: int):
    """Seed numpy's global generator (SERGIO draws from it) and restore its state on exit."""
    state = np.random.get_state()  # noqa: NPY002 - SERGIO only uses the legacy global generator
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002
