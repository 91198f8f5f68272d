"""Networks per group of cells: the fitted model, rebuilt with the features of each group's cells.

:func:`grnlink.tl._predict.group_tables` scores the models :func:`group_models` builds.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from anndata import AnnData
from tqdm.auto import tqdm

from .._settings import info, progress_disabled
from .._validation import InputError, _preview, check_groupby
from ..models import available_models, get_model_class
from ._features import ExpressionView, cell_features, cell_subsample
from ._store import FittedGRN

MIN_GROUP_CELLS = 10  # fewer cells give correlations and gene statistics that are mostly noise
#: a TF detected (non-zero) in fewer of a group's cells has no network in that group
MIN_TF_DETECTION = 0.05
GROUP_FEATURES = ("expression", "gene_stats")  # the groups rebuilt from a group's cells


def per_group_models() -> list[str]:
    """Names of the models that can score with the features of a group's cells."""
    return [name for name in available_models() if get_model_class(name).per_group]


def group_models(
    adata: AnnData, fitted: FittedGRN, groupby: str
) -> list[tuple[str, FittedGRN, np.ndarray, np.ndarray]]:
    """``(group, model scoring with the group's cells, the group's cell positions in adata, expressed)`` per group.

    A group's cells are those of the fit's cell subsample (``max_cells``,
    ``seed``) in the group; their ``expression`` and ``gene_stats`` are built
    from them alone, as the fit built them from all its cells. ``expressed``
    marks the genes detected in at least :data:`MIN_TF_DETECTION` of the
    group's cells: a TF below it cannot regulate there. ``adata`` is only read.
    """
    labels = check_groupby(adata, groupby).to_numpy()
    params = fitted.fit_params
    fit_cells = cell_subsample(adata.n_obs, params.get("max_cells"), int(params.get("seed", 0)))
    groups = _group_order(adata.obs[groupby], labels[fit_cells])
    counts = {group: int((labels[fit_cells] == group).sum()) for group in groups}
    small = {group: n for group, n in counts.items() if n < MIN_GROUP_CELLS}
    if small:
        listed = ", ".join(f"{group!r} ({n})" for group, n in list(small.items())[:5])
        raise InputError(
            f"groups of adata.obs[{groupby!r}] with fewer than {MIN_GROUP_CELLS} cells among the "
            f"{len(fit_cells)} cells the model was fitted on: {listed}. A group network needs at least "
            f"{MIN_GROUP_CELLS}. Merge or drop those groups, or refit with more cells (max_cells=None uses all)."
        )
    name = fitted.model.name
    if not type(fitted.model).per_group:
        _raise_not_per_group(name, "")
    genes = np.asarray(fitted.genes, dtype=str)
    out = []
    bar = tqdm(groups, desc="group networks", disable=progress_disabled(), leave=False)
    same_genes = adata.n_vars == len(genes) and np.array_equal(np.asarray(adata.var_names, dtype=str), genes)
    fitted_genes = adata if same_genes else adata[:, genes]
    fit_view = ExpressionView.of(fitted_genes, params.get("layer"), fit_cells)
    for group in bar:
        in_group = labels[fit_cells] == group
        cells = fit_cells[in_group]
        fit_view.dense()  # read once for every group
        view = fit_view.subset(in_group)
        dense = view.dense()
        try:
            model = fitted.model.for_cells(cell_features(view, GROUP_FEATURES), np.flatnonzero(in_group))
        except NotImplementedError as err:
            _raise_not_per_group(name, f" ({err})")
        expressed = (dense != 0).mean(axis=0) >= MIN_TF_DETECTION
        out.append((group, dataclasses.replace(fitted, model=model, target_stats=None), cells, expressed))
    info(f"group networks of {name}: {len(groups)} groups of {groupby!r}, {min(counts.values())}+ cells each")
    return out


def _group_order(column: pd.Series, present: np.ndarray) -> list[str]:
    """The groups present, in the column's category order when it has one, else sorted."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        order = [str(c) for c in column.cat.categories]
        return [g for g in order if g in set(present)]
    return sorted(set(present.tolist()))


def _raise_not_per_group(name: str, detail: str) -> None:
    raise InputError(
        f"the {name} model cannot build a network per group{detail}: its gene features are fixed at fit time. "
        f"Models that score with a group's cells: {_preview(per_group_models(), 10)}. Fit one of them "
        "(the default, stack, is one), e.g. gl.tl.grn_fit(adata, prior, model='degree_adjusted')."
    )
