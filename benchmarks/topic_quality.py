"""Are our topics any good? Coherence, diversity, outliers and fit time against baselines.

Two corpora:

(a) **sample**: the sample study's evidence segments, read from a copy of ``interviews/``
    (its store is copied when there is one; otherwise the copy is run through
    ``toolkit.pipeline.run_study`` first). The original study is never written to.
(b) **perfcorpus**: the 34 real podcast transcripts in ``shared/perfcorpus``, split into
    sentences with the toolkit's segmenter (``segment_turns``, spaCy ``senter``).

Models compared on each, all seeded:

* ``ours``: the topics stage as the pipeline runs it (:func:`toolkit.topics.stage.fit_topics`:
  structure set aside, UMAP + HDBSCAN sized for the corpus, noun-phrase keyphrases, the codebook
  *beside* the topics, candidate new themes relative to the study, seed stability);
* ``ours, seeded``: the same with ``seed_with_codebook`` (the option; sample study only);
* ``BERTopic default``: ``bertopic.BERTopic()`` with the packaged MiniLM as embedding model
  and a seeded UMAP (otherwise BERTopic's defaults), timed *including* its own embedding;
* ``BERTopic default, precomputed``: the same, given the embeddings;
* ``LDA``: :func:`toolkit.topics.quality.lda_baseline` with as many topics as ``ours``.

Columns: topics found, share of segments left as outliers (topic -1), mean NPMI of each
topic's top 10 keywords over the corpus (C_NPMI, document co-occurrence over windows of
consecutive segments; every way a word may be written counts, so every model's words are
scored as shown; "NPMI words" splits phrases into their words first), topic diversity (top 25
words), structure topics (topics mostly made of introductions, logistics, times and dates,
contact details, prompts or scripted repeats, by the toolkit's rules: goal 0), the share of
keyword words that are structure words, fit seconds. Then: what the rules set aside, our seed
stability (adjusted Rand index over other seeds; ``--baseline-stability N`` for BERTopic's),
and each candidate new theme with its evidence (reasons, share uncoded, distinctive places).
``--show-topics`` prints every topic of ours (label, keyphrases, stability, relation to the
codebook): labels are built from the study's (pseudonymised) passages.

Usage::

    .venv/bin/python benchmarks/topic_quality.py                      # both corpora
    .venv/bin/python benchmarks/topic_quality.py --corpus sample
    .venv/bin/python benchmarks/topic_quality.py --limit 8000         # the first 8,000 podcast sentences
    .venv/bin/python benchmarks/topic_quality.py --corpus sample --study /tmp/run-copy/interviews --show-topics
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import random
import re
import shutil
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.conftest import PERFCORPUS, SAMPLE_STUDY
from toolkit import schema as s
from toolkit.topics.quality import lda_baseline, npmi_coherence, tokenise, topic_diversity

log = logging.getLogger("topic_quality")


# --------------------------------------------------------------------------- corpora
@dataclasses.dataclass
class Corpus:
    """Segments to fit (``segment_key``, ``text``, and when known ``source_uid``, ``source_kind``, ``place``,
    ``prompt``), the resolved codings, the codebook set beside the topics, the study config and an embedder."""

    name: str
    segments: object
    codings: object
    codebook: object
    config: object
    embedder: object


class Remembering:
    """An embedder that remembers what it embedded (the benchmark embeds each text once)."""

    def __init__(self, inner):
        self.inner = inner
        self.seen: dict[str, np.ndarray] = {}
        self.computed = 0

    def __call__(self, texts):
        texts = list(texts)
        todo = list(dict.fromkeys(t for t in texts if t not in self.seen))
        if todo:
            self.computed += len(todo)
            self.seen.update(zip(todo, np.asarray(self.inner(todo), dtype=np.float32)))
        return np.vstack([self.seen[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)


def sample_corpus(workdir: Path, study: Path) -> Corpus:
    """The sample study's evidence segments and codings, from a copy (the original is never written).

    ``study`` may be a copy that was already run (``toolkit run``): its store is reused.
    """
    import pandas as pd

    from toolkit.coding import resolve_codings
    from toolkit.config import load_config
    from toolkit.embed import CachedEmbedder
    from toolkit.pipeline import run_study, study_codebook
    from toolkit.store import Store

    copy = workdir / "interviews"
    shutil.copytree(study, copy, ignore=shutil.ignore_patterns("exports", "models"))
    config = load_config(copy)
    try:
        store = Store(config.store_url)
        segments = store.segments_frame(evidence_only=True)
    except Exception as exc:  # noqa: BLE001 - an old or missing store: build it
        log.info("the copied store cannot be used (%s): running the pipeline", type(exc).__name__)
        segments = None
    if segments is None or segments.empty:
        shutil.rmtree(copy / "store", ignore_errors=True)
        store = Store(config.store_url)
        run_study(config, store=store)
        segments = store.segments_frame(evidence_only=True)
    codings = resolve_codings(store.table(s.CODINGS), store.table(s.HUMAN_CODINGS))
    return Corpus("sample", segments.reset_index(drop=True), codings if not codings.empty else pd.DataFrame(),
                  study_codebook(config), config, Remembering(CachedEmbedder(store)))


def perfcorpus_corpus(limit: int | None, seed: int) -> Corpus:
    """The podcast transcripts split into sentences by the toolkit's segmenter (no codebook, no codings)."""
    import pandas as pd

    from benchmarks.scale_study import _parse_vtt_cues
    from toolkit.config import StudyConfig
    from toolkit.embed import CachedEmbedder
    from toolkit.models import load_segmenter
    from toolkit.segment import segment_turns

    rows = []
    for k, path in enumerate(sorted(PERFCORPUS.glob("*.vtt"))):
        cues = [text for _, _, text in _parse_vtt_cues(path)]
        for j in range(0, len(cues), 40):  # paragraphs of 40 cues
            rows.append({s.TURN_ID: len(rows), s.SOURCE_ID: k, s.SOURCE_UID: path.stem, s.PATH: path.name, s.START_CHAR: 0,
                         s.TEXT: " ".join(cues[j : j + 40]), s.SPEAKER_ROLE: s.PARTICIPANT})
    segments = segment_turns(pd.DataFrame(rows), load_segmenter())
    segments = segments.head(limit) if limit else segments
    frame = pd.DataFrame({s.SEGMENT_KEY: [str(i) for i in range(len(segments))],
                          s.TEXT: segments[s.TEXT].tolist(),
                          s.SOURCE_UID: segments[s.SOURCE_UID if s.SOURCE_UID in segments else s.SOURCE_ID]
                          .astype(str).tolist(),
                          s.SOURCE_KIND: "transcript"})
    config = dataclasses.replace(StudyConfig.default(Path.cwd()), seed=seed)
    return Corpus("perfcorpus", frame, pd.DataFrame(), types.SimpleNamespace(themes=()), config,
                  Remembering(CachedEmbedder(None)))


def windows(tokens: list[set[str]], size: int) -> list[set[str]]:
    """Sliding windows of ``size`` consecutive segments (C_NPMI's sliding window, at sentence scale).

    One sentence is too short a context for co-occurrence: most word pairs never meet in one,
    and every model scores near -1. Segments are in reading order, so a window is a stretch of talk.
    """
    if size <= 1:
        return tokens
    half = size // 2
    return [set().union(*tokens[max(0, i - half) : i + half + 1]) for i in range(len(tokens))]


def reference_tokens(texts: list[str], nlp) -> list[set[str]]:
    """Every way a topic word may be written, per segment: so each model's words are scored as shown.

    Words of :func:`tokenise` with stop words kept and lemmas added, plus spaCy's lower-case
    tokens and plain ``[\\w'-]+`` runs (short words, "it's", "i02"): a stop word or a short word
    in a topic's top words is scored on how it co-occurs, not as absent.
    """
    words = tokenise(texts, stop_words=())
    out = []
    for text, tokens, doc in zip(texts, words, nlp.pipe(texts, batch_size=256)):
        found = set(tokens)
        found.update(t.lower_ for t in doc if not (t.is_punct or t.is_space))
        found.update(t.lemma_.lower() for t in doc if t.is_alpha)
        found.update(re.findall(r"[\w'’-]+", text.lower()))
        out.append(found)
    return out


# --------------------------------------------------------------------------- models
def fit_ours(corpus: Corpus, *, seed: int, seeded: bool = False):
    """The topics stage as the pipeline runs it (:func:`toolkit.topics.stage.fit_topics`), without a store."""
    import pandas as pd

    from toolkit.topics.stage import fit_topics

    options = dataclasses.replace(corpus.config.topics, top_n_words=25, seed_with_codebook=seeded)
    config = dataclasses.replace(corpus.config, seed=seed, topics=options)
    fit = fit_topics(corpus.segments, config=config, codebook=corpus.codebook, embedder=corpus.embedder,
                     edits=pd.DataFrame(), codings=corpus.codings)
    words = {int(t): list(ws) for t, ws in zip(fit.topics[s.TOPIC], fit.topics[s.KEYWORDS])}
    labels = fit.assignments[s.TOPIC].to_numpy()
    return words, labels, fit


def bertopic_default(texts, *, seed: int, embeddings=None) -> tuple[dict, np.ndarray, str]:
    from bertopic import BERTopic
    from umap import UMAP

    from toolkit.models import load_embedder

    # BERTopic's default UMAP, plus a seed
    umap = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", low_memory=False, random_state=seed)
    model = BERTopic(embedding_model=load_embedder(), umap_model=umap, top_n_words=25)
    labels, _ = model.fit_transform(texts, embeddings=embeddings)
    words = {int(t): [w for w, score in pairs if w] for t, pairs in model.get_topics().items()}
    return words, np.asarray(labels), "BERTopic() defaults, seeded UMAP, MiniLM"


# --------------------------------------------------------------------------- structure
def structure_figures(words: dict, labels, texts: list[str], kinds: list) -> dict:
    """How much of a model's output is structure, not content.

    * ``structure_topics``: topics (not -1) whose segments are mostly structure: at least half carry a
      structure kind (:func:`toolkit.topics.structure.find_structure`, the same rules file the
      toolkit uses), or the topic as a whole is made of one structure signal
      (:func:`toolkit.topics.structure.structure_topic`). Needs segment labels (not for LDA).
    * ``structure_keywords``: the share of the top 10 keywords' words that are structure words
      (fillers, time words, numbers: the rules' ``keyword_stop`` lexicons).

    Both use the toolkit's own rules, so for "ours" they check that the rules were applied, not that
    they are right; reading the topics (``--show-topics``) is the independent check.
    """
    from toolkit.topics.structure import load_structure_rules, structure_topic

    rules = load_structure_rules()
    out: dict = {"structure_topics": None, "structure_topic_list": []}
    if labels is not None:
        labels = np.asarray(labels)
        found = []
        for topic in sorted(set(labels.tolist()) - {-1}):
            members = np.flatnonzero(labels == topic)
            share = float(np.mean([bool(kinds[i]) for i in members]))
            whole = structure_topic([texts[i] for i in members], rules)
            if share >= 0.5 or whole:
                top = max(((k, sum(kinds[i] == k for i in members)) for k in {kinds[i] for i in members if kinds[i]}),
                          key=lambda kv: kv[1], default=(whole, 0))[0]
                found.append({"topic": int(topic), "size": len(members), "kind": whole or top,
                              "share": round(share, 2)})
        out["structure_topics"] = len(found)
        out["structure_topic_list"] = found
    tops = [w for t, ws in words.items() if int(t) != -1 for phrase in ws[:10] for w in str(phrase).lower().split()]
    out["structure_keywords"] = float(np.mean([w in rules.keyword_stop for w in tops])) if tops else 0.0
    return out


def evaluate(name, words, labels, seconds, docs_tokens, texts, kinds, note="") -> dict:
    labels = np.asarray(labels) if labels is not None else None
    real = [t for t in words if int(t) != -1]
    n_topics = len(real)
    # the reference documents are lower-case; keyphrases keep their case for display ("NHS number")
    words = {t: list(dict.fromkeys(str(w).lower() for w in ws)) for t, ws in words.items()}
    coherence = npmi_coherence(words, docs_tokens, top_n=10)
    # phrases ("health visitor") split into their words, so unigram and bigram models compare on words
    unigrams = {t: list(dict.fromkeys(w for phrase in ws for w in phrase.split())) for t, ws in words.items()}
    coherence_words = npmi_coherence(unigrams, docs_tokens, top_n=10)
    return {
        "model": name,
        "topics": n_topics,
        "outlier_share": float(np.mean(labels == -1)) if labels is not None else 0.0,
        "npmi": coherence["mean"],
        "npmi_words": coherence_words["mean"],
        "diversity": topic_diversity(words, top_n=25),
        "fit_s": seconds,
        "note": note,
        "words": {int(t): list(ws[:5]) for t, ws in words.items()},
        **structure_figures(words, labels, texts, kinds),
    }


def compare(corpus: Corpus, args) -> tuple[list[dict], dict]:
    from sklearn.metrics import adjusted_rand_score

    from toolkit.models import load_embedder, load_segmenter
    from toolkit.topics.structure import find_structure, structure_counts

    texts = corpus.segments[s.TEXT].tolist()
    info: dict = {"corpus": corpus.name, "segments": len(texts), "distinct": len(set(texts))}
    started = time.perf_counter()
    docs_tokens = windows(reference_tokens(texts, load_segmenter()), args.window)
    info["window"] = args.window
    info["tokenise_s"] = time.perf_counter() - started
    sources = corpus.segments[s.SOURCE_UID].tolist() if s.SOURCE_UID in corpus.segments else None
    kinds = find_structure(texts, sources=sources)
    info["structure_segments"] = structure_counts(kinds)
    load_embedder()
    started = time.perf_counter()
    vectors = corpus.embedder(texts)
    info["embed_s"] = time.perf_counter() - started
    rows = []

    started = time.perf_counter()
    words, labels, fit = fit_ours(corpus, seed=args.seed)
    report = fit.report
    note = ", ".join(report.notes) + f", {len(corpus.codebook.themes)} codebook themes beside, not seeded"
    rows.append(evaluate("ours (TopicModeller)", words, labels, time.perf_counter() - started, docs_tokens, texts,
                         kinds, note))
    info["ours"] = {"structure_set_aside": report.structure, "short": report.short, "stability": report.stability,
                    "restating_topics": report.restating_topics, "candidates": report.candidates}
    info["topics"] = fit.topics
    n_topics = rows[0]["topics"]
    if corpus.codebook.themes and not args.skip_seeded:
        started = time.perf_counter()
        words_s, labels_s, fit_s = fit_ours(corpus, seed=args.seed, seeded=True)
        rows.append(evaluate("ours, seeded by the codebook (option)", words_s, labels_s, time.perf_counter() - started,
                             docs_tokens, texts, kinds, f"{fit_s.report.seeded_topics} seeded topics"))

    if not args.skip_bertopic_embedding:
        started = time.perf_counter()
        words_b, labels_b, note = bertopic_default(texts, seed=args.seed)
        rows.append(evaluate("BERTopic default (embeds itself)", words_b, labels_b, time.perf_counter() - started,
                             docs_tokens, texts, kinds, note))
    started = time.perf_counter()
    words_b, labels_b, note = bertopic_default(texts, seed=args.seed, embeddings=vectors)
    rows.append(evaluate("BERTopic default, precomputed emb.", words_b, labels_b, time.perf_counter() - started,
                         docs_tokens, texts, kinds, note))
    if args.baseline_stability:
        aris = []
        for k in range(1, args.baseline_stability + 1):
            _, other, _ = bertopic_default(texts, seed=args.seed + k, embeddings=vectors)
            aris.append(adjusted_rand_score(labels_b, other))
        info["bertopic_stability"] = {"seeds": args.baseline_stability, "mean_ari": float(np.mean(aris))}

    started = time.perf_counter()
    words_l = lda_baseline(texts, max(2, n_topics), seed=args.seed, top_n=25)
    rows.append(evaluate("LDA (sklearn, batch)", words_l, None, time.perf_counter() - started, docs_tokens, texts,
                         kinds, f"{max(2, n_topics)} topics, as many as ours"))
    return rows, info


def table(rows: list[tuple], header: tuple) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([line.format(*header), line.format(*("-" * w for w in widths)), *(line.format(*r) for r in rows)])


def print_corpus(rows: list[dict], info: dict, args) -> None:
    from toolkit.analysis.topics import relation_to_codebook
    from toolkit.topics.stability import stability_label

    print(f"\n== {info['corpus']}: {info['segments']:,} segments ({info['distinct']:,} distinct); embedding them "
          f"(MiniLM) took {info['embed_s']:.1f} s, tokenising for NPMI {info['tokenise_s']:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(table(
        [(r["model"], r["topics"], f"{r['outlier_share']:.1%}", f"{r['npmi']:.3f}", f"{r['npmi_words']:.3f}",
          f"{r['diversity']:.2f}", "-" if r["structure_topics"] is None else r["structure_topics"],
          f"{r['structure_keywords']:.1%}", f"{r['fit_s']:.1f}", r["note"]) for r in rows],
        ("model", "n topics", "outliers", "NPMI (mean)", "NPMI words", "diversity", "structure topics",
         "structure kw", "fit s", "note"),
    ))
    print(f"Segments the structure rules catch (all models see them): {info['structure_segments'] or 'none'}")
    for r in rows:
        for found in r["structure_topic_list"]:
            print(f"  structure topic in {r['model']}: topic {found['topic']} ({found['size']} segments), "
                  f"{found['kind']}, {found['share']:.0%} of its segments structure")
    ours = info["ours"]
    stability = ours["stability"] or {}
    if stability.get("seeds"):
        print(f"Ours, seed stability over {len(stability['seeds'])} other seeds: adjusted Rand index "
              f"{stability['mean_ari']:.2f}; {stability['stable_topics']} topics stable (best match >= 0.75), "
              f"{stability['dissolving_topics']} dissolve (< 0.5).")
    if "bertopic_stability" in info:
        b = info["bertopic_stability"]
        print(f"BERTopic default, seed stability over {b['seeds']} other seeds: adjusted Rand index {b['mean_ari']:.2f}.")
    topics = info["topics"]
    real = topics[topics[s.TOPIC] != s.OUTLIER_TOPIC]
    print(f"Ours: {len(real)} topics, {ours['restating_topics']} restate a codebook theme, "
          f"{len(ours['candidates'])} candidate new themes; set aside: {ours['structure_set_aside'] or 'nothing'} "
          f"and {ours['short']} too short.")
    for row in real[real[s.CANDIDATE_NEW]].to_dict("records"):
        ev = row[s.EVIDENCE] or {}
        places = ", ".join(f"{p['place']} (z {p['z']})" for p in ev.get("distinctive_places", [])) or "no place stands out"
        uncoded = f"{ev['uncoded_share']:.0%} uncoded vs {ev['study_uncoded_share']:.0%} in the study" \
            if "uncoded_share" in ev else "no codings"
        print(f"  candidate: topic {row[s.TOPIC]} ({row[s.SIZE]} segments, {stability_label(row[s.STABILITY]) or '-'}): "
              f"{', '.join(map(str, row[s.KEYWORDS][:5]))} | {', '.join(ev.get('reasons', []))}; {uncoded}; "
              f"{places}; {relation_to_codebook(row)}")
    if args.show_topics:
        for row in real.to_dict("records"):
            print(f"  topic {row[s.TOPIC]:>3} {row[s.SIZE]:>5} {stability_label(row[s.STABILITY]) or '-':<9} "
                  f"{str(row[s.TOPIC_LABEL])[:70]:<70} | {', '.join(map(str, row[s.KEYWORDS][:5]))} | "
                  f"{relation_to_codebook(row)}")
    if args.show_words:
        for r in rows:
            for t in sorted(k for k in r["words"] if k != -1)[:3]:
                print(f"  {r['model'][:30]:<30} topic {t}: {', '.join(r['words'][t])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Topic quality of our model against BERTopic's default and LDA.")
    parser.add_argument("--corpus", choices=("sample", "perfcorpus", "both"), default="both")
    parser.add_argument("--study", type=Path, default=SAMPLE_STUDY,
                        help="the sample study to copy (default interviews/; a copy already run reuses its store)")
    parser.add_argument("--limit", type=int, help="use only the first N podcast sentences")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--window", type=int, default=5,
                        help="NPMI reference documents: windows of this many consecutive segments (1 = single segments)")
    parser.add_argument("--skip-bertopic-embedding", action="store_true",
                        help="leave out the BERTopic row that embeds the documents itself (slow on big corpora)")
    parser.add_argument("--skip-seeded", action="store_true", help="leave out our model seeded by the codebook")
    parser.add_argument("--baseline-stability", type=int, default=0, metavar="N",
                        help="also refit BERTopic's default with N other seeds and print its adjusted Rand index")
    parser.add_argument("--show-topics", action="store_true",
                        help="print each of our topics: label, keyphrases, stability, relation to the codebook")
    parser.add_argument("--show-words", action="store_true", help="print 5 keywords of the first 3 topics per model")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    random.seed(args.seed)
    np.random.seed(args.seed)

    results = []
    workdir = Path(tempfile.mkdtemp(prefix="topic_quality_"))
    try:
        corpora = []
        if args.corpus in ("sample", "both"):
            corpora.append(lambda: sample_corpus(workdir, args.study))
        if args.corpus in ("perfcorpus", "both"):
            if any(PERFCORPUS.glob("*.vtt")):
                corpora.append(lambda: perfcorpus_corpus(args.limit, args.seed))
            else:
                print(f"perfcorpus not found at {PERFCORPUS}: skipped")
        for load in corpora:
            rows, info = compare(load(), args)
            print_corpus(rows, info, args)
            info.pop("topics")
            results.append({"info": info, "rows": rows})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
