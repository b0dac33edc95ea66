"""How well good-practice passages become practices, on a built study, against a reading by hand.

    python benchmarks/practices.py [STUDY] [--labels tests/framework/data/practice_labels.csv]

STUDY is a built study (default: the sample study ``interviews/``, built with ``make run``). The
labels file holds the sample's good-practice candidates as a person read them: the practice each
passage describes, or ``not`` with why (hypothetical, barrier, aside). It was written by reading the
candidates, not by looking at what the toolkit proposes. Candidates that are not in the file (the
coder changed) are counted and left out.

Printed, for the screens (:func:`toolkit.analysis.practices.screen_practice`): how many candidates
each screen set aside, precision and recall of "not a practice"; for the grouping
(:func:`toolkit.analysis.practices.propose_practices`, on the passages read as practices, with the
store's cached embeddings and with TF-IDF): number of groups against the number of practices read,
adjusted Rand index and pairwise precision/recall, and how many "data clinic" passages land in one
group. Nothing is asserted: figures only.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from toolkit.analysis.practices import DEFAULT_THRESHOLD, propose_practices, screen_practice
from toolkit.api import open_study
from toolkit.api_framework import cached_vectors


def pairwise(truth: list[str], found: list[str]) -> tuple[float, float]:
    same_t = {(i, j) for i, j in combinations(range(len(truth)), 2) if truth[i] == truth[j]}
    same_f = {(i, j) for i, j in combinations(range(len(found)), 2) if found[i] == found[j]}
    both = len(same_t & same_f)
    return (both / len(same_f) if same_f else 1.0), (both / len(same_t) if same_t else 1.0)


def main() -> None:
    from sklearn.metrics import adjusted_rand_score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", nargs="?", default=str(REPO / "interviews"))
    parser.add_argument("--labels", default=str(REPO / "tests" / "framework" / "data" / "practice_labels.csv"))
    args = parser.parse_args()
    study = open_study(args.study)
    library = study.good_practice()
    labels = pd.read_csv(args.labels, keep_default_na=False)
    labelled = {(r.participant, r.text): r for r in labels.itertuples()}
    rows = []
    for row in library.to_dict("records"):
        hit = labelled.get((row["participant"], row["text"]))
        if hit is not None:
            rows.append({**row, "truth": hit.practice, "why_not": hit.why_not})
    frame = pd.DataFrame(rows)
    print(f"candidates in the study: {len(library)}; read by hand: {len(frame)}; not in the labels: "
          f"{len(library) - len(frame)}")
    frame["screen"] = [screen_practice(t) for t in frame["text"]]
    truly_not = frame["truth"] == "not"
    flagged = frame["screen"].notna()
    tp = int((truly_not & flagged).sum())
    print(f"\nscreens: {dict(Counter(frame['screen'].dropna()))}")
    print(f"  'not a practice' read by hand: {int(truly_not.sum())}; set aside: {int(flagged.sum())}; both: {tp}")
    print(f"  precision {tp / max(int(flagged.sum()), 1):.2f}, recall {tp / max(int(truly_not.sum()), 1):.2f}")
    for row in frame[flagged != truly_not].itertuples():
        print(f"  missed or wrongly set aside: hand={row.truth!r} screen={row.screen!r} ({row.why_not or '-'})")
    practices = frame[~truly_not].reset_index(drop=True)
    truth = list(practices["truth"])
    corpus = list(study.segments()["text"])
    vectors = cached_vectors(study.store, list(practices["segment_key"]), list(practices["text"]))
    print(f"\ngrouping {len(practices)} passages read as practices ({practices['truth'].nunique()} practices by hand; "
          f"threshold {DEFAULT_THRESHOLD})")
    for name, vec in (("cached embeddings", vectors), ("TF-IDF", None)):
        if name == "cached embeddings" and vec is None:
            print("  cached embeddings: not in the store (run the code stage)")
            continue
        started = time.perf_counter()
        out = propose_practices(practices, vectors=vec, corpus=corpus)
        seconds = time.perf_counter() - started
        found = list(out.set_index("segment_key").loc[practices["segment_key"], "proposal"])
        precision, recall = pairwise(truth, found)
        clinic = [f for t, f in zip(truth, found) if t == "clinic"]
        biggest = Counter(clinic).most_common(1)[0][1] if clinic else 0
        print(f"  {name}: {len(set(found))} groups, ARI {adjusted_rand_score(truth, found):.3f}, pairwise precision "
              f"{precision:.2f} recall {recall:.2f}; data clinic: {biggest} of {len(clinic)} in one group; "
              f"{seconds:.2f}s")
        titles = out.drop_duplicates("proposal")
        sizes = out["proposal"].value_counts()
        for t in titles.itertuples():
            print(f"    {t.place:12s} {sizes[t.proposal]:3d}  {t.proposed_title}")


if __name__ == "__main__":
    main()
