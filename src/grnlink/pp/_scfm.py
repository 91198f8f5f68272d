"""Gene embeddings from a Geneformer-style single-cell foundation model run on ``adata`` itself."""

from __future__ import annotations

import json
import os
import pickle
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from anndata import AnnData
from tqdm.auto import tqdm

from .._io import expression
from .._settings import info, progress_disabled, verbosity, warning
from .._validation import (
    KEY,
    POSITIVE_INT,
    InputError,
    Rule,
    _is_int,
    _preview,
    check_args,
    check_groupby,
    check_unique_var_names,
    int_at_least,
)
from ._celltype_means import _check_chunk, _group_codes, _read_rows, _row_ranges

TARGET_SUM = 10_000.0  # Geneformer scales every cell to this total before dividing by the gene medians
_SPECIAL = re.compile(r"^<[^<>]+>$")  # "<pad>", "<mask>", "<cls>", "<eos>": tokens, not genes
_FILE_SUFFIXES = (".json", ".pkl", ".pickle")


@dataclass(frozen=True)
class _Vocabulary:
    """Token id of every var (-1: not a gene of the dictionary) and the special tokens."""

    token_of_var: np.ndarray
    pad_id: int
    prefix: tuple[int, ...]
    suffix: tuple[int, ...]


def _load_mapping(source, what: str) -> Mapping:
    """A dict, a Series or a ``.json``/``.pkl`` file holding one, as a mapping."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.suffix.lower() not in _FILE_SUFFIXES:
            raise InputError(
                f"{what} file {str(path)!r} must end in .json or .pkl (Geneformer ships .pkl); "
                "or pass a dict already loaded."
            )
        if not path.is_file():
            raise InputError(f"{what} file {str(path)!r} does not exist. Pass the path of an existing .json or .pkl.")
        if path.suffix.lower() == ".json":
            with path.open() as handle:
                source = json.load(handle)
        else:
            with path.open("rb") as handle:
                source = pickle.load(handle)
    if isinstance(source, pd.Series):
        source = dict(zip(source.index, source.to_numpy()))
    if not isinstance(source, Mapping):
        raise InputError(f"{what} must be a dict, or a .json/.pkl file holding one; got {type(source).__name__}.")
    if not source:
        raise InputError(f"{what} is empty.")
    return source


def _var_keys(adata: AnnData, gene_column: str | None) -> tuple[list[str | None], str]:
    """The key every var is looked up by, and a name for them in messages."""
    if gene_column is None:
        return [str(v) for v in adata.var_names], "adata.var_names"
    if gene_column not in adata.var.columns:
        raise InputError(
            f"gene_column={gene_column!r} is not a column of adata.var (columns: "
            f"{_preview(adata.var.columns, 10) or 'none'}). Pass the column holding the dictionary's gene ids "
            "(e.g. Ensembl ids), or gene_column=None to use var_names."
        )
    values = adata.var[gene_column]
    return [None if pd.isna(v) else str(v) for v in values], f"adata.var[{gene_column!r}]"


def _match(var_keys: list[str | None], keys: list[str], fold: bool) -> np.ndarray:
    """Position in ``keys`` of every var key, -1 where none: exact first, then (with ``fold``) ignoring case.

    A case-folded key shared by several dictionary keys, or by several vars, is ambiguous and matches exactly only.
    """
    exact = {key: i for i, key in enumerate(keys)}
    out = np.array([exact.get(k, -1) if k is not None else -1 for k in var_keys], dtype=np.int64)
    if fold:
        folded_keys = pd.Series(np.arange(len(keys)), index=pd.Index(keys).str.upper())
        folded = folded_keys[~folded_keys.index.duplicated(keep=False)].to_dict()
        folded_vars = pd.Index([k.upper() for k in var_keys if k is not None])
        ambiguous = set(folded_vars[folded_vars.duplicated()])
        for i, key in enumerate(var_keys):
            if out[i] < 0 and key is not None and key.upper() not in ambiguous:
                out[i] = folded.get(key.upper(), -1)
    return out


def _token_ids(dictionary: Mapping) -> tuple[list[str], np.ndarray, dict[str, int]]:
    """Gene keys, their integer ids, and the special tokens of a token dictionary."""
    bad = [k for k, v in dictionary.items() if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0]
    if bad:
        raise InputError(
            f"token_dictionary maps {len(bad)} key(s) to something other than a non-negative integer token id "
            f"({_preview((k, dictionary[k]) for k in bad)}). Pass the model's own gene -> token id dictionary."
        )
    specials = {str(k): int(v) for k, v in dictionary.items() if _SPECIAL.match(str(k))}
    genes = [str(k) for k in dictionary if not _SPECIAL.match(str(k))]
    ids = np.array([int(dictionary[k]) for k in dictionary if not _SPECIAL.match(str(k))], dtype=np.int64)
    return genes, ids, specials


def _first_per_token(token_of_var: np.ndarray, exact: np.ndarray, var_keys: list, what: str) -> np.ndarray:
    """Keep one var per token id (exact matches first, then var order); ids shared by several vars mislead the model."""
    order = np.lexsort((np.arange(len(token_of_var)), ~exact))
    seen: set[int] = set()
    dropped = []
    out = token_of_var.copy()
    for i in order:
        token = int(token_of_var[i])
        if token < 0:
            continue
        if token in seen:
            out[i] = -1
            dropped.append(i)
        seen.add(token)
    if dropped:
        warning(
            f"{len(dropped)} genes of {what} share a token id with an earlier gene and are left out "
            f"({_preview(var_keys[i] for i in sorted(dropped))}); make the gene keys unique."
        )
    return out


def _vocabulary(dictionary: Mapping, var_keys: list[str | None], fold: bool, what: str) -> _Vocabulary:
    genes, ids, specials = _token_ids(dictionary)
    pos = _match(var_keys, genes, fold)
    token_of_var = np.where(pos >= 0, ids[np.maximum(pos, 0)], -1)
    exact = np.array([k is not None and pos[i] >= 0 and genes[pos[i]] == k for i, k in enumerate(var_keys)])
    token_of_var = _first_per_token(token_of_var, exact, var_keys, what)
    if not (token_of_var >= 0).any():
        hint = ""
        if sum(g.upper().startswith("ENS") for g in genes) > len(genes) / 2:
            hint = " The dictionary is keyed by Ensembl ids: pass gene_column='<adata.var column of Ensembl ids>'."
        raise InputError(
            f"No gene of {what} is in token_dictionary ({what}: {_preview(k for k in var_keys if k is not None)}; "
            f"dictionary: {_preview(genes)}).{hint} Use the dictionary that belongs to the model, and gene_column= "
            "when var_names are symbols but the dictionary holds ids."
        )
    prefix = (specials["<cls>"],) if "<cls>" in specials else ()
    suffix = (specials["<eos>"],) if "<eos>" in specials else ()
    return _Vocabulary(token_of_var, specials.get("<pad>", 0), prefix, suffix)


def _inverse_medians(gene_medians, var_keys: list[str | None], fold: bool, in_dictionary: np.ndarray) -> np.ndarray:
    """1 / median per var, NaN where a dictionary gene has no median (it is then not ranked)."""
    medians = _load_mapping(gene_medians, "gene_medians")
    keys = [str(k) for k in medians]
    values = pd.to_numeric(pd.Series(list(medians.values()), dtype=object), errors="coerce").to_numpy(np.float64)
    pos = _match(var_keys, keys, fold)
    per_var = np.where(pos >= 0, values[np.maximum(pos, 0)], np.nan)
    bad = (pos >= 0) & in_dictionary & ~(np.isfinite(per_var) & (per_var > 0))
    if bad.any():
        raise InputError(
            f"gene_medians holds {int(bad.sum())} missing, non-numeric or non-positive medians for genes of adata "
            f"({_preview(np.asarray(var_keys, dtype=object)[bad])}); medians must be > 0. Drop those entries."
        )
    missing = in_dictionary & (pos < 0)
    if not (in_dictionary & (pos >= 0)).any():
        raise InputError(
            "No gene of the token dictionary found in adata has a median in gene_medians. Key the medians like "
            "the dictionary (same gene ids), or pass gene_medians=None."
        )
    if missing.any():
        warning(
            f"{int(missing.sum())} of the {int(in_dictionary.sum())} dictionary genes in adata have no median in "
            f"gene_medians ({_preview(np.asarray(var_keys, dtype=object)[missing])}); they are left out of the ranking."
        )
    inverse = np.full(len(var_keys), np.nan)
    ranked = in_dictionary & (pos >= 0)
    inverse[ranked] = 1.0 / per_var[ranked]
    return inverse


def _rank_rows(chunk: np.ndarray | sp.csr_matrix, inv_median: np.ndarray, n_genes: int) -> list[np.ndarray]:
    """Var positions of every row's genes by decreasing normalised value (ties: var order), at most ``n_genes``.

    Only vars with a finite ``inv_median`` and nonzero expression take part.
    """
    totals = np.asarray(chunk.sum(axis=1), dtype=np.float64).ravel()
    ranked = []
    for row in range(chunk.shape[0]):
        if sp.issparse(chunk):
            lo, hi = chunk.indptr[row], chunk.indptr[row + 1]
            idx, x = chunk.indices[lo:hi].astype(np.int64), chunk.data[lo:hi]
        else:
            idx = np.flatnonzero(chunk[row])
            x = chunk[row, idx]
        keep = (x > 0) & np.isfinite(inv_median[idx])
        idx = idx[keep]
        value = x[keep].astype(np.float64) / totals[row] * TARGET_SUM * inv_median[idx]
        ranked.append(idx[np.lexsort((idx, -value))][:n_genes])
    return ranked


def _batch_inputs(ranked: list[np.ndarray], vocab: _Vocabulary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """input_ids and attention_mask padded to the longest cell, and the var at every position (-1: none)."""
    length = len(vocab.prefix) + max(len(r) for r in ranked) + len(vocab.suffix)
    input_ids = np.full((len(ranked), length), vocab.pad_id, dtype=np.int64)
    mask = np.zeros((len(ranked), length), dtype=np.int64)
    var_at = np.full((len(ranked), length), -1, dtype=np.int64)
    start = len(vocab.prefix)
    for i, genes in enumerate(ranked):
        stop = start + len(genes)
        input_ids[i, :start] = vocab.prefix
        input_ids[i, start:stop] = vocab.token_of_var[genes]
        input_ids[i, stop : stop + len(vocab.suffix)] = vocab.suffix
        mask[i, : stop + len(vocab.suffix)] = 1
        var_at[i, start:stop] = genes
    return input_ids, mask, var_at


def _load_model(model):
    """A ``PreTrainedModel`` and its name, from a model object, a local folder or a hub id."""
    import transformers

    if isinstance(model, transformers.PreTrainedModel):
        name = getattr(model, "name_or_path", "") or getattr(model.config, "_name_or_path", "")
        return model, str(name) or type(model).__name__
    if not isinstance(model, str | os.PathLike):
        raise InputError(
            f"model must be a local Hugging Face model folder or a loaded transformers.PreTrainedModel; "
            f"got {type(model).__name__}."
        )
    path = Path(model)
    if not path.is_dir():
        text = str(model)
        if path.exists() or path.is_absolute() or text.startswith((".", "~")) or text.count("/") > 1:
            raise InputError(
                f"model={text!r} is not a folder. Pass the folder holding the checkpoint's config.json and weights."
            )
    # transformers shows its own loading bar and a report of unused weights (every Geneformer
    # checkpoint has a masked-LM head that AutoModel drops): follow scanpy's verbosity instead
    hf_logging = transformers.utils.logging
    bars_were_on, hf_verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    if progress_disabled():
        hf_logging.disable_progress_bar()
    if verbosity() < 3:
        hf_logging.set_verbosity_error()
    try:
        loaded = transformers.AutoModel.from_pretrained(str(model))
    except (OSError, ValueError) as err:
        if path.is_dir():
            raise InputError(
                f"Could not load a Hugging Face model from the folder {str(model)!r}: {err}. "
                "It must hold config.json and the weights (save them with model.save_pretrained(folder))."
            ) from err
        raise InputError(
            f"model={str(model)!r} is not a local folder and could not be loaded from the Hugging Face hub "
            f"(the network or hub is unreachable, or the id does not exist): {err}. Download the checkpoint "
            "and pass its local folder."
        ) from err
    finally:
        hf_logging.set_verbosity(hf_verbosity)
        if bars_were_on:
            hf_logging.enable_progress_bar()
    return loaded, str(model)


def _check_model(model, vocab: _Vocabulary, hidden_layer: int, max_length: int) -> None:
    """Settings the model cannot honour raise here, before any cell is read."""
    config = model.config
    n_layers = getattr(config, "num_hidden_layers", None)
    if n_layers is not None and not -(n_layers + 1) <= hidden_layer <= n_layers:
        raise InputError(
            f"hidden_layer={hidden_layer} is out of range: the model has {n_layers} layers, so hidden_states has "
            f"{n_layers + 1} entries (0 = token embeddings, -1 = last layer, -2 = second-to-last). "
            f"Pass a value from {-(n_layers + 1)} to {n_layers}."
        )
    n_positions = getattr(config, "max_position_embeddings", None)
    if n_positions is not None and max_length > n_positions:
        raise InputError(
            f"max_length={max_length} is longer than the model's max_position_embeddings={n_positions}. "
            f"Pass max_length={n_positions} or less."
        )
    vocab_size = getattr(config, "vocab_size", None)
    used = np.concatenate([vocab.token_of_var[vocab.token_of_var >= 0], [vocab.pad_id, *vocab.prefix, *vocab.suffix]])
    if vocab_size is not None and used.max() >= vocab_size:
        raise InputError(
            f"token_dictionary holds token ids up to {int(used.max())} but the model's vocabulary has {vocab_size} "
            "tokens. Use the dictionary that belongs to this model."
        )


_LAYER_INDEX = Rule("an integer index into the model's hidden states (negative: from the last)", _is_int)


def _check_settings(batch_size, max_length, hidden_layer, n_special: int) -> None:
    check_args(
        batch_size=(batch_size, POSITIVE_INT),
        max_length=(max_length, int_at_least(n_special + 1)),
        hidden_layer=(hidden_layer, _LAYER_INDEX),
    )


class _Pooler:
    """Running sums and counts of every gene's hidden states, overall and per group (float64, on the CPU)."""

    def __init__(self, n_vars: int, n_groups: int):
        self.n_vars, self.n_groups = n_vars, n_groups
        self.sums = self.group_sums = None
        self.counts = np.zeros(n_vars, dtype=np.int64)
        self.group_counts = np.zeros(n_groups * n_vars, dtype=np.int64)

    def add(self, hidden: torch.Tensor, var_at: np.ndarray, groups: np.ndarray | None) -> None:
        rows, cols = np.nonzero(var_at >= 0)
        at = (torch.from_numpy(rows).to(hidden.device), torch.from_numpy(cols).to(hidden.device))
        states = hidden[at].detach().to("cpu", torch.float64)
        genes = var_at[rows, cols]
        if self.sums is None:
            self.sums = torch.zeros((self.n_vars, states.shape[1]), dtype=torch.float64)
        self.sums.index_add_(0, torch.from_numpy(genes), states)
        np.add.at(self.counts, genes, 1)
        if groups is not None:
            flat = groups[rows] * self.n_vars + genes
            if self.group_sums is None:
                self.group_sums = torch.zeros((self.n_groups * self.n_vars, states.shape[1]), dtype=torch.float64)
            self.group_sums.index_add_(0, torch.from_numpy(flat), states)
            np.add.at(self.group_counts, flat, 1)

    @staticmethod
    def _means(sums: torch.Tensor, counts: np.ndarray) -> np.ndarray:
        sums = sums.numpy()
        out = np.zeros(sums.shape, dtype=np.float64)
        np.divide(sums, counts[:, None], out=out, where=counts[:, None] > 0)
        return out.astype(np.float32)

    def means(self) -> np.ndarray:
        return self._means(self.sums, self.counts)

    def group_means(self) -> np.ndarray:
        """n_vars x (n_groups * d), one block of d columns per group."""
        per_group = self._means(self.group_sums, self.group_counts).reshape(self.n_groups, self.n_vars, -1)
        return np.ascontiguousarray(per_group.transpose(1, 0, 2).reshape(self.n_vars, -1))


def _hidden_states(model, input_ids: np.ndarray, mask: np.ndarray, hidden_layer: int, device) -> torch.Tensor:
    with torch.no_grad():
        out = model(
            input_ids=torch.from_numpy(input_ids).to(device),
            attention_mask=torch.from_numpy(mask).to(device),
            output_hidden_states=True,
            return_dict=True,
        )
    states = getattr(out, "hidden_states", None)
    if states is None:
        raise InputError(f"{type(model).__name__} returned no hidden_states; pass an encoder model (e.g. BertModel).")
    if not -len(states) <= hidden_layer < len(states):
        raise InputError(
            f"hidden_layer={hidden_layer} is out of range: the model returns {len(states)} hidden states "
            f"({len(states) - 1} layers). Pass a value from {-len(states)} to {len(states) - 1}."
        )
    return states[hidden_layer]


def _embed(
    X,
    what: str,
    model,
    vocab: _Vocabulary,
    inv_median: np.ndarray,
    *,
    codes: np.ndarray | None,
    n_groups: int,
    hidden_layer: int,
    max_length: int,
    batch_size: int,
    device: torch.device,
) -> tuple[_Pooler, int]:
    """Run the model over every cell of ``X`` in batches; the pooled sums and the number of cells with a token.

    Cells without a token are skipped; the others fill batches in cell order, whatever the row chunks read.
    """
    n_genes = max_length - len(vocab.prefix) - len(vocab.suffix)
    pooler = _Pooler(X.shape[1], n_groups)
    pending: list[tuple[int, np.ndarray]] = []
    n_used = 0
    non_integer = False

    def run(batch: list[tuple[int, np.ndarray]]) -> None:
        cells = np.array([cell for cell, _ in batch])
        input_ids, mask, var_at = _batch_inputs([genes for _, genes in batch], vocab)
        hidden = _hidden_states(model, input_ids, mask, hidden_layer, device)
        pooler.add(hidden, var_at, None if codes is None else codes[cells])

    if isinstance(X, sp.coo_matrix | sp.coo_array):
        X = X.tocsr()
    with tqdm(total=X.shape[0], desc="scfm_embed", unit="cells", disable=progress_disabled(), leave=False) as bar:
        for start, stop in _row_ranges(X, batch_size):
            chunk = _read_rows(X, start, stop)
            if sp.issparse(chunk):
                chunk.sum_duplicates()
            _check_chunk(chunk, what, start, stop)
            values = chunk.data if sp.issparse(chunk) else chunk
            if values.size and values.min() < 0:
                raise InputError(
                    f"{what} has negative values (rows {start} to {stop - 1}); the rank encoding needs raw counts. "
                    "Pass layer='counts' (or the layer holding raw counts)."
                )
            non_integer = non_integer or bool(np.any(values != np.round(values)))
            for offset, genes in enumerate(_rank_rows(chunk, inv_median, n_genes)):
                if len(genes):
                    pending.append((start + offset, genes))
            while len(pending) >= batch_size:
                run(pending[:batch_size])
                n_used += batch_size
                del pending[:batch_size]
            bar.update(stop - start)
        if pending:
            run(pending)
            n_used += len(pending)
    if non_integer:
        warning(
            f"{what} holds non-integer values (normalised or log-transformed?); Geneformer-style rank encoding "
            "expects raw counts. Pass layer='counts' if adata has one."
        )
    return pooler, n_used


def _checked_input(
    adata: AnnData, *, layer: str | None, groupby: str | None, key_added: str, copy: bool
) -> tuple[object, str, np.ndarray | None, list]:
    """The expression matrix and its name in messages, and every cell's group code and the groups (``groupby``).

    Checks the arguments about ``adata`` itself, before any file or model is read.
    """
    check_args(key_added=(key_added, KEY))
    check_unique_var_names(adata)
    X, what = expression(adata, layer)
    if X is None:
        raise InputError("adata.X is empty; pass layer='<name>' of the layer holding raw counts.")
    if adata.n_obs == 0:
        raise InputError("adata has no cells.")
    if copy and adata.isbacked:
        raise InputError(
            "copy=True is not possible for a backed AnnData (it would load the whole matrix). "
            "Use copy=False, or load it first with adata.to_memory()."
        )
    codes, groups = (None, [])
    if groupby is not None:
        check_groupby(adata, groupby)
        codes, groups = _group_codes(adata.obs[groupby])
    return X, what, codes, groups


def _gene_tokens(
    adata: AnnData,
    token_dictionary,
    gene_medians,
    gene_column: str | None,
    *,
    batch_size,
    max_length,
    hidden_layer,
) -> tuple[_Vocabulary, np.ndarray]:
    """The token of every var and 1 / its median (NaN: not ranked); the batch and length settings are checked here."""
    var_keys, keys_what = _var_keys(adata, gene_column)
    fold = gene_column is None
    vocab = _vocabulary(_load_mapping(token_dictionary, "token_dictionary"), var_keys, fold, keys_what)
    _check_settings(batch_size, max_length, hidden_layer, len(vocab.prefix) + len(vocab.suffix))
    in_dictionary = vocab.token_of_var >= 0
    if gene_medians is None:
        inv_median = np.where(in_dictionary, 1.0, np.nan)
    else:
        inv_median = _inverse_medians(gene_medians, var_keys, fold, in_dictionary)
    return vocab, inv_median


@contextmanager
def _evaluating(model, device: torch.device, *, restore_device: bool) -> Iterator[None]:
    """``model`` in eval mode on ``device``; afterwards back in its train/eval mode (and, if asked, on its device)."""
    first = next(model.parameters(), None)
    old_device = first.device if first is not None and restore_device else None
    was_training = model.training
    try:
        model.to(device).eval()
        yield
    finally:
        model.train(was_training)
        if old_device is not None:
            model.to(old_device)


def _pooled_states(
    model,
    X,
    what: str,
    vocab: _Vocabulary,
    inv_median: np.ndarray,
    *,
    codes: np.ndarray | None,
    n_groups: int,
    hidden_layer,
    max_length,
    batch_size,
    device,
) -> tuple[_Pooler, int, str]:
    """Load and check the model, run it over every cell; the pooled hidden states, the cells used, the model's name."""
    given = model
    model, model_name = _load_model(model)
    _check_model(model, vocab, hidden_layer, max_length)
    device = torch.device(device if device is not None else "cuda" if torch.cuda.is_available() else "cpu")
    # a model the caller passed in goes back to where it was; one loaded here is dropped afterwards anyway
    with _evaluating(model, device, restore_device=model is given):
        pooler, n_used = _embed(
            X,
            what,
            model,
            vocab,
            inv_median,
            codes=codes,
            n_groups=n_groups,
            hidden_layer=int(hidden_layer),
            max_length=int(max_length),
            batch_size=int(batch_size),
            device=device,
        )
    if n_used == 0:
        raise InputError(
            f"No cell of {what} expresses a gene of the token dictionary. Check that {what} holds counts "
            "(layer='counts') and that the dictionary matches the genes."
        )
    return pooler, n_used, model_name


def _write_result(
    adata: AnnData,
    pooler: _Pooler,
    n_used: int,
    settings: dict,
    *,
    n_in_dictionary: int,
    groupby: str | None,
    groups: list,
    key_added: str,
    hidden_layer,
    copy: bool,
) -> AnnData | None:
    """Mean embeddings into ``varm``, the mask into ``var``, ``settings`` (completed) into ``uns``; log the coverage."""
    embedding = pooler.means()
    embedded = pooler.counts > 0
    settings = {
        **settings,
        "n_cells": int(adata.n_obs),
        "n_cells_used": int(n_used),
        "d": int(embedding.shape[1]),
        "n_genes_in_dictionary": n_in_dictionary,
        "n_genes_embedded": int(embedded.sum()),
    }
    if groupby is not None:
        settings |= {"groupby": groupby, "groups": np.asarray(groups, dtype=object)}
        group_embedding = pooler.group_means()

    adata = adata.copy() if copy else adata
    adata.varm[key_added] = embedding
    adata.var[f"{key_added}_mask"] = embedded
    if groupby is not None:
        adata.varm[f"{key_added}_{groupby}"] = group_embedding
    adata.uns[key_added] = settings
    n_vars = adata.n_vars
    info(
        f"scfm_embed: {n_in_dictionary} of {n_vars} genes in the token dictionary, "
        f"{int(embedded.sum())} embedded ({100 * embedded.sum() / n_vars:.1f}%) from {n_used} cells, "
        f"hidden_layer={hidden_layer} -> adata.varm[{key_added!r}] ({embedding.shape[1]} dims)"
    )
    return adata if copy else None


def scfm_embed(
    adata: AnnData,
    model,
    *,
    token_dictionary: Mapping | str | os.PathLike,
    gene_medians: Mapping | pd.Series | str | os.PathLike | None = None,
    gene_column: str | None = None,
    hidden_layer: int = -2,
    max_length: int = 2048,
    batch_size: int = 16,
    groupby: str | None = None,
    layer: str | None = None,
    key_added: str = "X_scfm",
    device: str | torch.device | None = None,
    copy: bool = False,
) -> AnnData | None:
    """Gene embeddings from a Geneformer-style foundation model run on the cells of ``adata``.

    Every cell is rank-value encoded as Geneformer does: expression is divided by
    the cell's total count (times 10,000) and, with ``gene_medians``, by each
    gene's median; the expressed genes of the token dictionary are sorted by
    decreasing value (ties in ``var_names`` order) and the first ``max_length``
    become the cell's tokens. The model reads the cells in batches, and each
    gene's embedding is the mean, over the cells in which it is a token, of its
    hidden state in layer ``hidden_layer``. Sums are accumulated batch by batch;
    the expression matrix (dense, sparse, backed or dask) is read ``batch_size``
    rows at a time (dask along its own row chunks) and never made dense.

    What this does not reproduce: the token dictionary and the gene medians
    are not shipped with grnlink; pass the files that belong to the model
    (Geneformer's ``token_dictionary*.pkl`` and ``gene_median_dictionary*.pkl``,
    keyed by Ensembl id, hence ``gene_column``). Geneformer's gene filtering and
    id mapping (``ensembl_mapping_dict``, summing duplicated ids) are not run;
    vars whose key is duplicated, or maps to a token id another var already has,
    are left out with a warning. ``<cls>`` and ``<eos>`` are added (first and
    last, counted in ``max_length``) only when the dictionary has those keys,
    as Geneformer V2 dictionaries do; they never contribute to a gene's
    embedding. The total count is the row sum of the matrix used, not
    ``obs["n_counts"]``. Cell embeddings and in-silico perturbation are not
    provided.

    Parameters
    ----------
    adata
        Cells x genes AnnData holding raw counts (in ``X`` or ``layer``).
    model
        A local Hugging Face model folder (loaded with ``transformers.AutoModel``), a hub id
        (needs the network), or a loaded ``transformers.PreTrainedModel``. A loaded model is
        put back on its device and in its train/eval mode afterwards.
    token_dictionary
        Gene key -> integer token id: a dict, or a ``.json`` or ``.pkl`` file. Keys like
        ``"<pad>"`` are special tokens, not genes; the pad id is ``"<pad>"``'s, else 0.
    gene_medians
        Gene key -> median (non-zero) expression, keyed like the dictionary: a dict, a Series,
        or a ``.json``/``.pkl`` file. Dictionary genes without a median are not ranked.
        ``None`` ranks the total-count-normalised expression.
    gene_column
        Column of ``adata.var`` with the dictionary's keys (e.g. Ensembl ids), matched exactly.
        ``None`` uses ``var_names``, matched exactly first, then ignoring case.
    hidden_layer
        Index into the model's hidden states (0: token embeddings, -1: last layer);
        Geneformer's default is the second-to-last layer, -2.
    max_length
        Tokens per cell at most (the top-ranked genes, plus ``<cls>``/``<eos>`` if present);
        at most the model's ``max_position_embeddings``.
    batch_size
        Cells per forward pass.
    groupby
        Column of ``adata.obs`` (cell types): also store per-group mean embeddings.
    layer
        Layer with the counts; ``None`` uses ``adata.X``.
    key_added
        Where the result goes (see Returns).
    device
        Torch device; ``None`` uses ``"cuda"`` when available, else ``"cpu"``.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or the modified copy when ``copy=True``. Writes

    - ``adata.varm[key_added]``: n_vars x d float32, zeros for genes with no embedding;
    - ``adata.var[f"{key_added}_mask"]``: ``True`` where the gene was a token of at least one cell;
    - with ``groupby``, ``adata.varm[f"{key_added}_{groupby}"]``: n_vars x (n_groups * d) float32,
      one block of d columns per group in ``adata.uns[key_added]["groups"]`` order, zeros where a
      gene was no token of any cell of the group;
    - ``adata.uns[key_added]``: the settings (``model``, ``hidden_layer``, ``max_length``, ``layer``,
      ``gene_medians`` (bool), ``n_cells``, ``n_cells_used`` (cells with a token), ``d``,
      ``n_genes_in_dictionary``, ``n_genes_embedded``, and with ``groupby`` also ``groupby`` and ``groups``).

    Raises
    ------
    InputError
        No gene in the dictionary, a missing ``gene_column`` or dictionary file, non-integer token
        ids, negative counts, settings the model cannot honour, a model that cannot be loaded.
        ``adata`` is left untouched.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=200, n_tfs=20, n_cells=500, seed=0)
    >>> gl.pp.scfm_embed(  # doctest: +SKIP
    ...     adata,
    ...     "Geneformer-V2-104M",  # local folder of the checkpoint
    ...     token_dictionary="token_dictionary_gc104M.pkl",
    ...     gene_medians="gene_median_dictionary_gc104M.pkl",
    ...     gene_column="gene_ids",  # Ensembl ids
    ...     layer="counts",
    ... )
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="scregnet", embedding_key="X_scfm")  # doctest: +SKIP
    """
    X, what, codes, groups = _checked_input(adata, layer=layer, groupby=groupby, key_added=key_added, copy=copy)
    vocab, inv_median = _gene_tokens(
        adata,
        token_dictionary,
        gene_medians,
        gene_column,
        batch_size=batch_size,
        max_length=max_length,
        hidden_layer=hidden_layer,
    )
    pooler, n_used, model_name = _pooled_states(
        model,
        X,
        what,
        vocab,
        inv_median,
        codes=codes,
        n_groups=len(groups),
        hidden_layer=hidden_layer,
        max_length=max_length,
        batch_size=batch_size,
        device=device,
    )
    settings = {
        "model": model_name,
        "hidden_layer": int(hidden_layer),
        "max_length": int(max_length),
        "layer": layer or "X",
        "gene_medians": gene_medians is not None,
    }
    return _write_result(
        adata,
        pooler,
        n_used,
        settings,
        n_in_dictionary=int((vocab.token_of_var >= 0).sum()),
        groupby=groupby,
        groups=groups,
        key_added=key_added,
        hidden_layer=hidden_layer,
        copy=copy,
    )
