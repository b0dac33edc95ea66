"""The coder on text the coder's authors did not label: two independent sets. Prints figures; asserts nothing.

    python benchmarks/coder_independent.py [--embedder minilm|static|e5] [--set published|shifted|both]

* ``tests/data/gold/published_quotes.csv``: 120 real published quotes (UK Parliament, National Data
  Guardian, NHS Digital, ICO, two CC-BY papers) on sharing health information, labelled from the
  codebook's definitions by a person who never ran the coder.
* ``tests/data/gold/shifted_voices.csv``: 232 sentences in the words of patients, parents, the public,
  clinicians and school staff (vocabularies the sample study does not use), written and labelled by
  the same person, each with the question it answers; hard cases are tagged in ``notes``.

The coder is used as a new study would get it: the codebook only, no reviewed codings (zero-shot).
Figures: theme kappa and accuracy (uncoded = ``none``) beside the always-``none`` baseline, coverage
(gold-themed units the coder coded), polarity macro-F1 between barrier and enabler where both coded a
theme, calibration error, and, for the shifted set, accuracy per hard-case tag.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GOLD = REPO / "tests" / "data" / "gold"
SETS = {"published": GOLD / "published_quotes.csv", "shifted": GOLD / "shifted_voices.csv"}


def load(name: str) -> pd.DataFrame:
    frame = pd.read_csv(SETS[name], dtype=str, keep_default_na=False)
    for column in ("prompt", "previous"):
        if column not in frame:
            frame[column] = ""
    frame["theme"] = frame["theme"].str.strip().replace("", "none")
    return frame


def coded(frame: pd.DataFrame, coder) -> pd.DataFrame:
    from toolkit.coding.evaluate import predict_frame

    units = frame.rename(columns={"text": "text"}).assign(
        prompt=frame["prompt"].replace("", None), previous=frame["previous"].replace("", None))
    return predict_frame(coder, units)


def main(argv: list[str] | None = None) -> int:
    from toolkit.embed import ENCODERS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedder", default="minilm", choices=sorted(ENCODERS))
    parser.add_argument("--set", default="both", choices=["published", "shifted", "both"])
    args = parser.parse_args(argv)

    from toolkit.codebook import load_codebook
    from toolkit.coding import build_coder
    from toolkit.coding.evaluate import score_codings
    from toolkit.embed import CachedEmbedder, make_encoder
    from toolkit.models import load_segmenter

    model, encoder = make_encoder(args.embedder)
    embedder = CachedEmbedder(None, model=model, encoder=encoder)
    codebook = load_codebook()
    started = time.perf_counter()
    coder = build_coder(codebook, None, embedder=embedder, nlp=load_segmenter())
    print(f"coder: {args.embedder}, codebook only (zero-shot); fitted in {time.perf_counter() - started:.1f} s")
    names = list(SETS) if args.set == "both" else [args.set]
    for name in names:
        gold = load(name)
        started = time.perf_counter()
        result = coded(gold, coder)
        seconds = time.perf_counter() - started
        figures = score_codings(gold, result, codebook=codebook)
        baseline = float((gold["theme"] == "none").mean())
        print(f"\n== {name}: {len(gold)} units ({seconds:.1f} s)")
        print(f"theme kappa {figures['theme_kappa']:.2f}, accuracy {figures['theme_accuracy']:.2f} "
              f"(always 'none' scores {baseline:.2f}); coverage {figures['coverage']:.2f}; "
              f"'none' kept {figures['none_kept']:.2f}")
        if "polarity_f1" in figures:
            print(f"polarity macro-F1 (barrier vs enabler) {figures['polarity_f1']:.2f} over "
                  f"{figures['polarity_units']} units both coded; polarity accuracy {figures['polarity_accuracy']:.2f}")
        print(f"calibration error: theme {figures['theme_ece']:.2f}, polarity {figures.get('polarity_ece', float('nan')):.2f}")
        right_theme = result["theme"].fillna("none").to_numpy() == gold["theme"].to_numpy()
        right_polarity = result["polarity"].fillna("").to_numpy() == gold["polarity"].to_numpy()
        if name == "shifted":
            tags = gold["notes"].str.extract(r"hard: ([^;]+)", expand=False).fillna("").str.strip()
            table = pd.DataFrame({"tag": tags, "theme right": right_theme,
                                  "both right": right_theme & (right_polarity | (gold["theme"] == "none").to_numpy())})
            table = table[table["tag"] != ""].groupby("tag").agg(units=("tag", "size"), theme_right=("theme right", "mean"),
                                                                  both_right=("both right", "mean"))
            print("\nhard cases (share right):")
            print(table.sort_values("units", ascending=False).round(2).to_string())
        by_theme = pd.DataFrame({"gold": gold["theme"], "right": right_theme}).groupby("gold")["right"].agg(["size", "mean"])
        print("\ntheme recall by gold theme:")
        print(by_theme.round(2).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
