"""Property tests of negative sampling: no excluded pair is ever drawn, and counts are exact."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from grnlink._pairs import pair_keys, sample_negatives


@st.composite
def _sampling_problem(draw):
    n_genes = draw(st.integers(3, 25))
    n_pos = draw(st.integers(1, 30))
    pos_tf = np.asarray(draw(st.lists(st.integers(0, n_genes - 1), min_size=n_pos, max_size=n_pos)))
    pos_gene = np.asarray(draw(st.lists(st.integers(0, n_genes - 1), min_size=n_pos, max_size=n_pos)))
    keep = pos_tf != pos_gene  # positives are prior edges: never self-loops
    forbidden_pairs = draw(st.lists(st.tuples(st.integers(0, n_genes - 1), st.integers(0, n_genes - 1)), max_size=40))
    forbidden = np.unique(pair_keys(*np.asarray(forbidden_pairs or np.empty((0, 2), int)).reshape(-1, 2).T, n_genes))
    ratio = draw(st.sampled_from([0.5, 1.0, 2.0, 3.0]))
    seed = draw(st.integers(0, 2**16))
    return n_genes, pos_tf[keep], pos_gene[keep], forbidden, ratio, seed


def _free_genes(tf, n_genes, blocked):
    return {g for g in range(n_genes) if g != tf and tf * n_genes + g not in blocked}


def _draw(problem, strategy):
    """The negatives ``sample_negatives`` draws for a generated problem (co-expression from random profiles)."""
    n_genes, pos_tf, pos_gene, forbidden, ratio, seed = problem
    z = np.random.default_rng(seed).normal(size=(n_genes, 4))
    return sample_negatives(
        pos_tf,
        pos_gene,
        n_genes,
        strategy=strategy,
        ratio=ratio,
        forbidden=forbidden,
        coexpression=lambda tf: z @ z[tf],
        rng=np.random.default_rng(seed),
    )


@settings(max_examples=150, deadline=None)
@given(_sampling_problem(), st.sampled_from(["tf_matched", "uniform", "hard"]))
def test_sampled_negatives_avoid_positives_excluded_pairs_and_self_loops(problem, strategy):
    n_genes, pos_tf, pos_gene, forbidden, ratio, seed = problem
    neg_tf, neg_gene = _draw(problem, strategy)
    keys = pair_keys(neg_tf, neg_gene, n_genes)
    assert not np.isin(keys, forbidden).any()
    assert not np.isin(keys, pair_keys(pos_tf, pos_gene, n_genes)).any()
    assert not (neg_tf == neg_gene).any()
    assert len(np.unique(keys)) == len(keys)  # no pair drawn twice
    assert np.isin(neg_tf, pos_tf).all()


@settings(max_examples=150, deadline=None)
@given(_sampling_problem(), st.sampled_from(["tf_matched", "hard"]))
def test_per_tf_negative_counts_are_exact(problem, strategy):
    n_genes, pos_tf, pos_gene, forbidden, ratio, seed = problem
    neg_tf, _ = _draw(problem, strategy)
    blocked = set(pair_keys(pos_tf, pos_gene, n_genes)) | set(forbidden)
    for tf in np.unique(pos_tf):
        wanted = int(round((pos_tf == tf).sum() * ratio))
        assert (neg_tf == tf).sum() == min(wanted, len(_free_genes(tf, n_genes, blocked)))


@settings(max_examples=150, deadline=None)
@given(_sampling_problem())
def test_uniform_negative_count_is_exact_even_when_self_pairs_are_excluded(problem):
    n_genes, pos_tf, pos_gene, forbidden, ratio, seed = problem
    neg_tf, _ = sample_negatives(
        pos_tf, pos_gene, n_genes, strategy="uniform", ratio=ratio, forbidden=forbidden, rng=np.random.default_rng(seed)
    )
    blocked = set(pair_keys(pos_tf, pos_gene, n_genes)) | set(forbidden)
    n_free = sum(len(_free_genes(tf, n_genes, blocked)) for tf in np.unique(pos_tf))
    assert len(neg_tf) == min(int(round(len(pos_tf) * ratio)), n_free)
