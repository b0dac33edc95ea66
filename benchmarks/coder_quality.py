"""How good is the machine coder, measured so that it generalises? Prints figures; asserts nothing.

    python benchmarks/coder_quality.py [--embedder e5|minilm|static] [--parse] [--skip-curve] [--skip-qdpx]

1. The sample gold set (tests/data/gold/gold_segments.csv, 336 units, written by the team: optimistic),
   each unit read with the interviewer's question / survey question before it:
   zero-shot (the codebook only), leave-one-interview-out and leave-one-place-out (trained on the
   codebook plus the other interviews' / places' gold codings as if reviewed), a learning curve
   (reviewed units drawn from the other places), calibration (expected calibration error and
   reliability tables for theme and polarity), and speed.
2. A real coded study from another field with its authors' own codebook (REFI-QDA, NVivo):
   oltas0517.qdpx, Hungarian YouTube comments on vaccination coded with a two-level codebook of
   names (and a few descriptions), no polarity. Zero-shot, then trained on a fifth of the videos
   and scored on the other four fifths (five rotations); never scored on training units.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coder_data import QDPX, gold_with_context, qdpx_study

from toolkit.coding import ThemeCoder
from toolkit.coding.evaluate import cross_validate, learning_curve, reliability, score_codings, threshold_sweep
from toolkit.embed import ENCODERS


class MemoEmbedder:
    """An encoder with an in-process cache (each text embedded once across all folds), timed."""

    def __init__(self, name: str):
        from toolkit.embed import make_encoder

        self.model, self.encoder = make_encoder(name)
        self.table: dict[str, np.ndarray] = {}
        self.seconds = 0.0
        self.embedded = 0

    def __call__(self, texts):
        texts = list(texts)
        todo = [t for t in dict.fromkeys(texts) if t not in self.table]
        if todo:
            start = time.perf_counter()
            vectors = np.asarray(self.encoder(todo), dtype=np.float32)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
            self.seconds += time.perf_counter() - start
            self.embedded += len(todo)
            self.table.update(zip(todo, vectors))
        return np.vstack([self.table[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def show(title: str, figures: dict) -> None:
    keys = ["units", "theme_kappa", "theme_kappa_top", "theme_accuracy", "coverage", "none_kept", "polarity_f1",
            "polarity_units", "polarity_accuracy", "theme_ece", "polarity_ece"]
    shown = ", ".join(f"{k} {figures[k]:.3f}" if isinstance(figures[k], float) else f"{k} {figures[k]}"
                      for k in keys if k in figures)
    print(f"{title}: {shown}")


def gold_benchmark(args, embedder, nlp) -> None:
    from toolkit.codebook import load_codebook

    book = load_codebook()
    gold = gold_with_context()
    gold["place_group"] = gold["place"]
    make = lambda training: ThemeCoder(codebook=book, embedder=embedder, nlp=nlp, seed=42).fit(training)
    print(f"\n== Sample gold set ({len(gold)} units, {gold['source'].nunique()} sources, {gold['place'].nunique()} places) ==")
    coded, timing = cross_validate(gold, make, group="source", zero_shot=True)
    show("zero-shot (codebook only)", score_codings(gold, coded))
    no_context = gold.drop(columns=["prompt", "previous"])
    coded_nc, _ = cross_validate(no_context, make, group="source", zero_shot=True)
    show("zero-shot, without the question and previous sentence", score_codings(no_context, coded_nc))
    coded, timing = cross_validate(gold, make, group="source")
    show("leave-one-interview-out (15 sources)", score_codings(gold, coded))
    tables = reliability(gold, coded)
    sweep = threshold_sweep(gold, coded)
    coded_p, _ = cross_validate(gold, make, group="place")
    show("leave-one-place-out (3 places)", score_codings(gold, coded_p))
    print("\nAbstention threshold (leave-one-interview-out; the default is 0.35):")
    print("  " + sweep.round(3).to_string(index=False).replace("\n", "\n  "))
    print("\nReliability, leave-one-interview-out (confidence bin: n, mean confidence, accuracy)")
    for name, table in tables.items():
        print(f"  {name}:")
        print("    " + table.round(3).to_string(index=False).replace("\n", "\n    "))
    per_fit = timing["fit_seconds"] / timing["groups"]
    rate = len(gold) / max(timing["predict_seconds"], 1e-9)
    print(f"\nSpeed: fit {per_fit:.1f} s per coder; coding {rate:.0f} units/s with embeddings cached "
          f"(embedding: {embedder.embedded} texts in {embedder.seconds:.1f} s = "
          f"{embedder.embedded / max(embedder.seconds, 1e-9):.0f} texts/s, {embedder.model})")
    if not args.skip_curve:
        curve = learning_curve(gold, make, group="place", sizes=(0, 25, 50, 100, 200), seeds=(1, 2, 3))
        cols = ["reviewed", "theme_kappa", "theme_accuracy", "coverage", "polarity_f1", "theme_ece", "polarity_ece"]
        print("\nLearning curve (leave-one-place-out; n reviewed units drawn from the other two places; 3 seeds)")
        print(curve[[c for c in cols if c in curve.columns]].round(3).to_string(index=False))


def qdpx_benchmark(args, embedder, nlp) -> None:
    from toolkit.codebook import codebook_from_dict

    path = QDPX / "oltas0517.qdpx"
    if not path.exists():
        print(f"\n(no {path}: real coded study skipped)")
        return
    themes, units, notes = qdpx_study(path)
    ids = {t["id"]: f"c{i:03d}" for i, t in enumerate(themes)}
    book = codebook_from_dict(
        {"name": "oltas0517 authors' codebook", "polarity": False,
         "themes": [{"id": ids[t["id"]], "name": t["name"], "definition": t["definition"] or t["name"],
                     **({"parent": ids[t["parent"]]} if t["parent"] else {})} for t in themes]},
        check_patterns=False,
    )
    # The project holds several coding frames side by side (HBM, rhetoric, attitude level, ...). The one
    # the authors used most is "Attituderoots" (11 themes, English names, on Hungarian text); score the
    # coder on its themes (level 1), each unit's label being its most used theme of that frame.
    by_id = {t["id"]: t for t in themes}

    def lineage(guid):
        chain = [guid]
        while by_id[chain[-1]]["parent"]:
            chain.append(by_id[chain[-1]]["parent"])
        return chain[::-1]  # root first

    roots = pd.Series([lineage(c)[0] for codes in units["codes"] for c in codes]).value_counts()
    frame = roots.index[0]
    level1 = lambda guid: lineage(guid)[1] if len(lineage(guid)) > 1 else None
    units = units.assign(tops=[{level1(c) for c in codes if lineage(c)[0] == frame and level1(c)} for codes in units["codes"]])
    units = units[units["tops"].map(len) > 0].reset_index(drop=True)
    counts = pd.Series([t for tops in units["tops"] for t in tops]).value_counts()
    units = units.assign(theme=[ids[max(tops, key=lambda t: counts[t])] for tops in units["tops"]],
                         tops=[{ids[t] for t in tops} for tops in units["tops"]], polarity=None)
    frame_themes = [t for t in themes if t["parent"] == frame]
    print(f"\n== Real coded study: {path.name} (NVivo 12; {len(book.ids)} codes on up to four levels in "
          f"{sum(1 for t in book.themes if not t.parent)} frames; scored on the frame '{by_id[frame]['name']}' "
          f"({len(frame_themes)} themes): {len(units)} coded comments in {units['group'].nunique()} videos; "
          f"{notes['matched']} of {notes['selections']} selections placed) ==")
    subs = {t["id"]: [u["name"] for u in themes if u["parent"] == t["id"]] for t in frame_themes}
    top_book = codebook_from_dict(
        {"name": book.name, "polarity": False,
         "themes": [{"id": ids[t["id"]], "name": t["name"],
                     "definition": (t["definition"] or t["name"])
                     + (". Includes: " + "; ".join(subs[t["id"]]) if subs[t["id"]] else "")}
                    for t in frame_themes]}, check_patterns=False)
    make = lambda training: ThemeCoder(codebook=top_book, embedder=embedder, nlp=None, min_confidence=0.0,
                                       seed=42).fit(training)
    zero = make(None)
    from toolkit.coding.evaluate import predict_frame

    coded = predict_frame(zero, units)
    hit = [p in tops for p, tops in zip(coded["best_theme"], units["tops"])]
    figures = score_codings(units[["text", "theme", "polarity"]], coded.assign(theme=coded["best_theme"]))
    print(f"zero-shot: kappa {figures['theme_kappa']:.3f}, accuracy {figures['theme_accuracy']:.3f}, "
          f"a code the authors used {np.mean(hit):.3f} ({len(units)} comments; chance ~{1 / len(top_book.ids):.3f})")
    groups = sorted(units["group"].unique())
    rng = np.random.default_rng(7)
    order = list(rng.permutation(groups))
    results = []
    for k in range(5):
        train_groups = set(order[k::5])
        train = units[units["group"].isin(train_groups)]
        test = units[~units["group"].isin(train_groups)]
        coder = make(train[["text", "theme"]].assign(polarity=None, prompt=train["prompt"]))
        out = predict_frame(coder, test)
        f = score_codings(test[["text", "theme", "polarity"]], out.assign(theme=out["best_theme"]))
        hit = np.mean([p in tops for p, tops in zip(out["best_theme"], test["tops"])])
        results.append({"train_units": len(train), "test_units": len(test), "kappa": f["theme_kappa"],
                        "accuracy": f["theme_accuracy"], "any_code_hit": hit})
    table = pd.DataFrame(results)
    print("trained on a fifth of the videos, scored on the other four fifths (5 rotations):")
    print("  " + table.round(3).to_string(index=False).replace("\n", "\n  "))
    print(f"  mean kappa {table['kappa'].mean():.3f}, accuracy {table['accuracy'].mean():.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", default="e5", choices=sorted(ENCODERS))
    parser.add_argument("--parse", action="store_true", help="clause scope from the dependency parse (slower)")
    parser.add_argument("--skip-curve", action="store_true")
    parser.add_argument("--skip-qdpx", action="store_true")
    parser.add_argument("--skip-gold", action="store_true")
    args = parser.parse_args()
    import spacy

    from toolkit.models import load_spacy

    nlp = load_spacy(disable=("ner",)) if args.parse else load_spacy(disable=("ner", "parser"))
    if not args.parse and "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    embedder = MemoEmbedder(args.embedder)
    print(f"embedder {embedder.model}; spaCy {'with' if args.parse else 'without'} parser; spacy {spacy.__version__}")
    if not args.skip_gold:
        gold_benchmark(args, embedder, nlp)
    if not args.skip_qdpx:
        qdpx_benchmark(args, embedder, nlp)


if __name__ == "__main__":
    main()
