"""Command line: ``grnlink demo``, ``grnlink fit``, ``grnlink predict``, ``grnlink network``.

Every failure the user can fix (bad arguments or option values, unreadable
input files, an output folder that is missing or is a file) ends with one
line on stderr, ``grnlink COMMAND: error: ...``, and exit status 2. Outputs
are checked before any work and written to a temporary file that replaces
the target only once complete, so a failed run leaves no partial output.

No command replaces an existing file, the input included, unless asked to
with ``--overwrite``: ``fit`` and ``predict`` write the AnnData to ``--out``
(which they require, or ``--overwrite`` alone to update the input in place).
"""

from __future__ import annotations

import argparse
import ast
import collections.abc
import inspect
import os
import re
import sys
import time
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ._validation import DEVICES
from .tl._fit import DEFAULT_MODEL, check_fit, grn_fit

_EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, reporting a usage error as one line (``grnlink fit: error: ...``) and exit 2."""

    def error(self, message: str):
        self.exit(_EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parse_option(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--option expects NAME=VALUE, got {text!r}")
    name, raw = text.split("=", 1)
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return name.strip(), value


def _read_table(path: str, what: str) -> pd.DataFrame:
    from ._io import read_table

    return read_table(path, what=what)


def _read_h5ad(path: str):
    import anndata as ad

    from ._validation import InputError

    if not Path(path).is_file():
        raise InputError(f"input file {path!r} does not exist (or is a folder).")
    try:
        return ad.read_h5ad(path)
    except Exception as err:  # h5py and anndata raise many types for a file that is not a valid .h5ad
        raise InputError(f"input file {path!r} cannot be read as .h5ad ({type(err).__name__}: {err}).") from err


def _check_output(path: str | Path, what: str, *, overwrite: bool = False, example: str = "out.h5ad") -> Path:
    """``path`` as a Path, raising unless it is a file path in an existing folder, new unless ``overwrite``."""
    from ._validation import InputError

    path = Path(path)
    if path.is_dir():
        raise InputError(f"{what} {str(path)!r} is a folder; pass a file name, e.g. {str(path / example)!r}.")
    if not path.parent.is_dir():
        state = "is a file" if path.parent.exists() else "does not exist"
        raise InputError(f"the folder of {what} {str(path)!r} {state}; create the folder or pass another path.")
    if path.exists() and not overwrite:
        raise InputError(f"{what} {str(path)!r} exists; pass --overwrite to replace it, or another file name.")
    return path


def _h5ad_output(args: argparse.Namespace) -> Path:
    """Where ``fit``/``predict`` write the AnnData: ``--out``; the input itself only with ``--overwrite``."""
    from ._validation import InputError

    if args.out is None and not args.overwrite:
        raise InputError(
            f"pass --out FILE.h5ad for the result (e.g. --out {_beside(args.input)}), or --overwrite to update "
            f"{args.input!r} in place; grnlink never replaces its input unless asked."
        )
    output = Path(args.input if args.out is None else args.out)
    if not args.overwrite and _same_file(output, Path(args.input)):
        raise InputError(
            f"--out {str(output)!r} is the input file; pass another file name (e.g. {_beside(args.input)}), "
            "or --overwrite to replace the input."
        )
    return _check_output(output, "--out", overwrite=args.overwrite)


def _beside(path: str) -> str:
    path = Path(path)
    return str(path.with_name(f"{path.stem}_grn{path.suffix or '.h5ad'}"))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _write_atomically(*outputs: tuple[Path, Callable[[Path], None]]) -> None:
    """Write each ``(path, write)`` to a temporary file beside it; replace the targets only once all are complete."""
    partials = [(path.with_name(f".{path.name}.partial{path.suffix}"), path) for path, _ in outputs]
    try:
        for (partial, _), (_, write) in zip(partials, outputs):
            write(partial)
        for partial, path in partials:
            os.replace(partial, path)
    finally:
        for partial, _ in partials:
            partial.unlink(missing_ok=True)


def _run_demo(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scanpy as sc
    from sklearn.metrics import precision_recall_curve

    import grnlink as gl

    from ._validation import InputError

    sc.settings.verbosity = 1  # the demo prints its own short report
    out_dir = Path(args.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out-dir {args.out_dir!r} is a file; pass a folder (it is created when missing).")
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    adata = gl.ds.simulate(seed=args.seed)
    truth = adata.uns["true_network"]
    split = gl.bm.split(truth, adata.var_names, seed=args.seed)
    print(
        f"simulated {adata.n_obs} cells x {adata.n_vars} genes, {len(truth)} true edges; "
        f"per-TF split: {int(split.train.label.sum())} training and {int(split.test.label.sum())} test edges"
    )
    rows, curves = [], {}
    default = DEFAULT_MODEL
    for model in (default, "pcc"):
        key = f"grn_{model}"
        t0 = time.perf_counter()
        gl.tl.grn_fit(
            adata, split.prior, **split.fit_kwargs(), model=model, groupby="cell_type", seed=args.seed, key_added=key
        )
        seconds = time.perf_counter() - t0
        scores = gl.tl.grn_predict(adata, pairs=split.test, key=key)["score"].to_numpy()
        rows.append({"model": model, **gl.bm.evaluate(split.test, scores), "fit_s": seconds})
        curves[model] = precision_recall_curve(split.test["label"], scores)
    degree = gl.bm.degree_scores(split.prior, split.test)
    rows.append({"model": "degree control", **gl.bm.evaluate(split.test, degree), "fit_s": 0.0})
    curves["degree control"] = precision_recall_curve(split.test["label"], degree)
    # score every prior TF against every gene with the default model, as a user would
    gl.tl.grn_predict(adata, key=f"grn_{default}", top_k=50)

    table = pd.DataFrame(rows).set_index("model")
    print("\nheld-out test pairs (TF-matched: each TF's test targets ranked against its own non-targets)")
    print(table[["auroc", "auprc", "tf_auroc", "tf_auprc", "fit_s"]].round(3).to_string())

    h5ad_path = out_dir / "grnlink_demo.h5ad"
    fig_path = out_dir / "grnlink_demo_pr.png"
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, (precision, recall, _) in curves.items():
        ax.plot(recall, precision, label=f"{name} (AUPRC {table.loc[name, 'auprc']:.2f})")
    ax.axhline(split.test["label"].mean(), color="grey", ls=":", label="random")
    ax.set(xlabel="recall", ylabel="precision", title="grnlink demo: held-out edges")
    ax.legend(frameon=False)
    fig.tight_layout()
    _write_atomically((h5ad_path, adata.write_h5ad), (fig_path, lambda path: fig.savefig(path, dpi=120, format="png")))
    plt.close(fig)
    print(f"\nwrote {h5ad_path.resolve()} (fitted models in uns['grn_{default}'], uns['grn_pcc'])")
    print(f"wrote {fig_path.resolve()} (precision-recall curves)")
    print(f"done in {time.perf_counter() - start:.0f} s")
    return 0


def _run_fit(args: argparse.Namespace) -> int:
    import grnlink as gl

    fit_kwargs = _fit_kwargs(args)
    check_fit(fit_kwargs)  # grn_fit's own checks, before any file is read
    output = _h5ad_output(args)
    adata = _read_h5ad(args.input)
    try:
        prior = (
            gl.pp.get_prior(args.prior, organism=args.organism)
            if args.prior in ("dorothea", "collectri")
            else (gl.pp.get_prior(args.prior))
        )
    except RuntimeError as err:  # decoupler's download failed (no network): the message says what to do
        raise gl.InputError(str(err)) from err
    tables = {
        name: _read_table(getattr(args, name), f"--{_flag(name)} file")
        for name, option in FIT_OPTIONS.items()
        if option.table and getattr(args, name) is not None
    }
    gl.tl.grn_fit(adata, prior, **fit_kwargs, **tables)
    _write_atomically((output, adata.write_h5ad))
    print(f"fitted {fit_kwargs['model']}; model stored in uns[{fit_kwargs['key_added']!r}] of {output}")
    return 0


def _fit_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """grn_fit's keyword arguments from ``grnlink fit``'s flags (tables excepted: files read once checked),
    then each ``--option NAME=VALUE``."""
    from ._validation import InputError

    flags = {name: getattr(args, name) for name, option in FIT_OPTIONS.items() if not option.table}
    options = dict(args.option)
    for name in options:
        if name in FIT_OPTIONS or name == "prior":
            flag = f"--{_flag(name)}"
            raise InputError(f"--option {name}=... repeats {flag}; pass it once, as {flag} VALUE.")
        if name in _FIT_ELSEWHERE:
            raise InputError(f"--option {name}=... is not an option of grnlink fit: it reads INPUT and writes --out.")
    return {**flags, **options}


# --- grnlink fit's flags, made from grn_fit's signature and docstring so that they cannot drift ------------------

#: grn_fit's parameters that ``grnlink fit`` fills otherwise: INPUT is ``adata``, --prior the prior (a name or
#: file), the result goes to --out (no ``copy``); model options (``**model_kwargs``) are ``--option NAME=VALUE``.
_FIT_ELSEWHERE = ("adata", "prior", "copy")
#: What the command line adds to the help that grn_fit's docstring gives a parameter.
_FIT_NOTES = {
    "exclude": "A CSV/TSV(.gz) file with source,target columns.",
    "validation": "A CSV/TSV(.gz) file with source,target,label columns.",
    "negatives": "(A table of non-edges is for the Python API.)",
    "features": "Several names, space-separated; the flag alone means no feature group. Default: expression "
    "plus the groups --groupby and --embedding-key make available.",
    "max_cells": "On the command line, None is 'none'.",
    "overwrite": "Also replaces existing output files (with no --out, the input itself).",
}


class FitOption(typing.NamedTuple):
    """How one grn_fit parameter is given on the command line: ``add_argument``'s keywords, and whether it is a
    table (a file, read once every argument is checked)."""

    kwargs: dict[str, Any]
    table: bool = False


def _flag(name: str) -> str:
    return name.replace("_", "-")


def _none_or(kind: type) -> Callable[[str], Any]:
    """An argparse type reading 'none' (any case) as None, anything else as ``kind``."""

    def convert(text: str) -> Any:
        return None if text.strip().lower() == "none" else kind(text)

    convert.__name__ = kind.__name__  # argparse names the type in "invalid int value: ..."
    return convert


def parameter_help(function: Callable) -> dict[str, str]:
    """The first sentence of each entry of ``function``'s numpydoc Parameters section, as plain text.

    Examples
    --------
    >>> from grnlink._cli import parameter_help
    >>> from grnlink.tl import grn_fit
    >>> parameter_help(grn_fit)["layer"]
    'Expression source; None uses adata.X.'
    """
    doc = inspect.getdoc(function) or ""
    section = re.search(r"^Parameters\n-+\n(.*?)(?:^\S[^\n]*\n-+\n|\Z)", doc, flags=re.M | re.S)
    entries = re.findall(r"^(\S[^\n]*)\n((?:[ \t]+\S[^\n]*\n?|\n)*)", section.group(1) if section else "", flags=re.M)
    helps = {}
    for names, text in entries:
        text = re.sub(
            r":\w+:`~?([^`]+)`", lambda m: m.group(1).split(".")[-1] if "~" in m.group(0) else m.group(1), text
        )
        text = " ".join(text.replace("``", "").split())
        first = re.split(r"(?<=\.)\s+(?=[A-Z])", text, maxsplit=1)[0]
        for name in names.split(","):
            helps[name.strip().lstrip("*")] = first
    return helps


def _fit_option(name: str, hint: Any, default: Any, doc: str) -> FitOption:
    """The command-line form of grn_fit's parameter ``name`` from its type hint; a type it cannot take raises."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    parts = typing.get_args(hint) if union else (hint,)
    nullable, table = type(None) in parts, pd.DataFrame in parts
    rest = [part for part in parts if part not in (type(None), pd.DataFrame)]
    help_text = " ".join(filter(None, [doc, _FIT_NOTES.get(name, "")]))
    kwargs: dict[str, Any] = {"dest": name, "default": default}
    if not rest and table:
        return FitOption({**kwargs, "metavar": "FILE", "help": help_text.replace("%", "%%")}, table=True)
    if len(rest) != 1:
        raise TypeError(f"grnlink fit cannot take grn_fit's {name}: {hint}; teach grnlink._cli._fit_option")
    (kind,) = rest
    origin = typing.get_origin(kind)
    if origin is typing.Literal:
        kwargs["choices"] = typing.get_args(kind)
    elif origin in (collections.abc.Sequence, list, tuple) and typing.get_origin(typing.get_args(kind)[0]) is (
        typing.Literal
    ):
        kwargs.update(nargs="*", choices=typing.get_args(typing.get_args(kind)[0]), metavar="NAME")
    elif kind is bool and default is False:
        kwargs["action"] = "store_true"
    elif kind in (int, float, str):
        kwargs["type"] = _none_or(kind) if nullable and kind is not str else kind
    else:
        raise TypeError(f"grnlink fit cannot take grn_fit's {name}: {hint}; teach grnlink._cli._fit_option")
    if default is not None and default is not False:
        help_text += f" (default: {default})"
    kwargs["help"] = help_text.replace("%", "%%")
    return FitOption(kwargs)


def _fit_options() -> dict[str, FitOption]:
    """Every grn_fit parameter that ``grnlink fit`` takes as a flag, in grn_fit's order (see :data:`FIT_OPTIONS`)."""
    hints = typing.get_type_hints(grn_fit)
    docs = parameter_help(grn_fit)
    return {
        name: _fit_option(name, hints[name], parameter.default, docs.get(name, ""))
        for name, parameter in inspect.signature(grn_fit).parameters.items()
        if parameter.kind is parameter.KEYWORD_ONLY and name not in _FIT_ELSEWHERE
    }


#: grn_fit's keyword parameters as ``grnlink fit`` flags (``--negative-ratio`` for ``negative_ratio``): every
#: one that takes a value (a string, number, choice, flag, list of choices, None-able), with grn_fit's
#: defaults, choices (its ``Literal`` types) and help (its docstring); tables (``exclude``, ``validation``)
#: as files. ``copy`` is not one (the command writes --out); model options go in --option.
FIT_OPTIONS = _fit_options()


def _run_predict(args: argparse.Namespace) -> int:
    import grnlink as gl
    from grnlink.models._device import resolve_device

    resolve_device(args.device)  # grn_predict's own check, before any file is read
    output = _h5ad_output(args)
    csv = _check_output(args.csv, "--csv", overwrite=args.overwrite, example="edges.csv") if args.csv else None
    if csv is not None and (csv.resolve() == output.resolve() or _same_file(csv, Path(args.input))):
        raise gl.InputError(f"--csv {args.csv!r} names the same file as the .h5ad; pass another file name.")
    adata = _read_h5ad(args.input)
    pairs = _read_table(args.pairs, "pairs file") if args.pairs else None
    tfs = [t for t in args.tfs.split(",") if t] if args.tfs is not None else None
    edges = gl.tl.grn_predict(adata, pairs=pairs, tfs=tfs, top_k=args.top_k, key=args.key, device=args.device)
    outputs = [(output, adata.write_h5ad)] + ([(csv, lambda path: edges.to_csv(path, index=False))] if csv else [])
    _write_atomically(*outputs)
    print(f"scored {len(edges)} pairs; stored in uns[{args.key!r}]['edges'] and varp['{args.key}_scores'] of {output}")
    if csv is not None:
        print(f"wrote {csv}")
    return 0


def _run_network(args: argparse.Namespace) -> int:
    import grnlink as gl
    from grnlink.tl._export import check_network_path, network_format

    output = _check_output(check_network_path(args.out), "--out", overwrite=args.overwrite, example="net.graphml")
    if args.groupby is not None and network_format(output)[0] in ("graphml", "sif"):
        raise gl.InputError(
            f"--groupby gives one network per group, which one {output.suffix} graph cannot hold; "
            "write .csv or .tsv (with a 'group' column), or leave out --groupby."
        )
    if _same_file(output, Path(args.input)):
        raise gl.InputError(f"--out {args.out!r} is the input file; pass another file name, e.g. net.graphml.")
    adata = _read_h5ad(args.input)
    options = {
        "min_precision": args.min_precision,
        "groupby": args.groupby,
        "rank_by": args.rank_by,
        "prior_coverage": args.prior_coverage,
    }
    net = gl.tl.grn_network(
        adata, key=args.key, top_k=args.top_k, **{name: value for name, value in options.items() if value is not None}
    )
    gl.tl.write_network(net, output)
    print(f"wrote {len(net)} edges of {net['source'].nunique()} TFs (uns[{args.key!r}]) to {output}")
    return 0


def _add_output(command: argparse.ArgumentParser, what: str, *, overwrite: bool = True) -> None:
    command.add_argument(
        "-o",
        "--out",
        "--output",
        dest="out",
        default=None,
        help=f"output .h5ad for {what} (required unless --overwrite updates the input in place)",
    )
    if overwrite:
        command.add_argument(
            "--overwrite", action="store_true", help="replace existing output files; with no --out, the input itself"
        )


def _add_device(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument(
        "--device",
        default="cpu",
        choices=DEVICES,
        help=f"where models that train by gradient {what}: cpu (default), cuda, or auto (cuda when available); "
        "the other models ignore it",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="grnlink", description="Supervised GRN link prediction on AnnData.")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or info messages")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo",
        help="simulate data, fit the default model and pcc, print held-out metrics",
        description="Simulates data with a known network, splits its edges per TF, fits the "
        "default model and the pcc baseline, prints held-out AUROC/AUPRC beside a degree-only "
        "control, and writes grnlink_demo.h5ad and a precision-recall figure. Runs offline.",
    )
    demo.add_argument("--out-dir", default=".", help="folder for grnlink_demo.h5ad and grnlink_demo_pr.png")
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_run_demo)

    fit = sub.add_parser(
        "fit",
        help="fit a link predictor on an .h5ad file",
        description="Runs gl.tl.grn_fit on INPUT: each of its arguments that takes a value is a flag below, "
        "with its name, default and choices (tables as CSV/TSV files); the chosen model's options go in "
        "--option NAME=VALUE. The fitted model is stored in --out's uns[KEY_ADDED].",
    )
    fit.add_argument("input", help="input .h5ad (cells x genes)")
    fit.add_argument("--prior", required=True, help="CSV/TSV(.gz) with source,target columns, or dorothea/collectri")
    fit.add_argument("--organism", default="human", help="organism for dorothea/collectri (human, mouse)")
    for name, option in FIT_OPTIONS.items():
        fit.add_argument(f"--{_flag(name)}", **option.kwargs)
    fit.add_argument(
        "--option",
        action="append",
        type=_parse_option,
        default=[],
        metavar="NAME=VALUE",
        help="model option, repeatable (e.g. --option n_ensemble=1)",
    )
    _add_output(fit, "the input with the fitted model", overwrite=False)  # --overwrite is grn_fit's, above
    fit.set_defaults(func=_run_fit)

    predict = sub.add_parser(
        "predict",
        help="score pairs with a fitted model",
        description="Runs gl.tl.grn_predict on INPUT with the options below; scores go to uns[KEY]['edges'] and "
        "varp[KEY_scores].",
    )
    predict.add_argument("input", help=".h5ad with a model fitted by 'grnlink fit'")
    predict.add_argument("--key", default="grn")
    predict.add_argument("--pairs", default=None, help="CSV/TSV of source,target pairs to score")
    predict.add_argument("--tfs", default=None, help="comma-separated TFs to score against every gene")
    predict.add_argument("--top-k", type=int, default=None)
    predict.add_argument("--csv", default=None, help="also write the scored edges to this CSV")
    _add_device(predict, "score")
    _add_output(predict, "the input with the scores")
    predict.set_defaults(func=_run_predict)

    network = sub.add_parser(
        "network",
        help="write the predicted network as GraphML, SIF or CSV",
        description="Runs gl.tl.grn_network on INPUT with the options below; the table goes to --out in the "
        "format its ending names "
        "(.graphml, .sif, .csv, .tsv, .csv.gz, .tsv.gz; see gl.tl.write_network). The input is only read.",
    )
    network.add_argument("input", help=".h5ad with a model fitted by 'grnlink fit'")
    network.add_argument("-o", "--out", required=True, help="network file: .graphml, .sif, .csv or .tsv (.gz)")
    network.add_argument("--key", default="grn", help="uns key of the fitted model")
    network.add_argument("--top-k", type=int, default=100, help="targets kept per TF (default 100)")
    network.add_argument("--min-precision", type=float, default=None, help="keep edges of at least this precision")
    network.add_argument("--groupby", default=None, help="obs column: one network per group (a 'group' column)")
    network.add_argument("--rank-by", default=None, choices=("score", "specificity"), help="how each TF's targets rank")
    network.add_argument(
        "--prior-coverage", type=float, default=None, help="override the fit's prior_coverage for the precision"
    )
    network.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    network.set_defaults(func=_run_network)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import scanpy as sc

    from ._validation import InputError

    # the command line shows progress bars and one-line summaries unless asked to be quiet
    sc.settings.verbosity = 1 if args.quiet else 2

    try:
        return args.func(args)
    except (InputError, OSError) as err:  # bad input, unreadable or unwritable files
        print(f"grnlink {args.command}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return _EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
