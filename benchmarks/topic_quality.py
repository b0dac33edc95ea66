"""Are our topics any good? Coherence, diversity, outliers and fit time against baselines.

Two corpora:

(a) **sample**: the sample study's evidence segments, read from a copy of ``interviews/``
    (its store is copied when there is one; otherwise the copy is run through
    ``toolkit.pipeline.run_study`` first). The original study is never written to.
(b) **perfcorpus**: the 34 real podcast transcripts in ``shared/perfcorpus``, split into
    sentences with the toolkit's segmenter (``segment_turns``, spaCy ``senter``).

Models compared on each, all seeded:

* ``ours``: :class:`toolkit.topics.TopicModeller` with the backends ``[topics]`` would
  build (UMAP + HDBSCAN sized for the corpus), codebook-seeded on the sample study;
* ``BERTopic default``: ``bertopic.BERTopic()`` with the packaged MiniLM as embedding model
  and a seeded UMAP (otherwise BERTopic's defaults), timed *including* its own embedding;
* ``BERTopic default, precomputed``: the same, given the embeddings;
* ``LDA``: :func:`toolkit.topics.quality.lda_baseline` with as many topics as ``ours``.

Columns: topics found, share of segments left as outliers (topic -1), mean NPMI of each
topic's top 10 keywords over the corpus (C_NPMI, document co-occurrence; a segment holds its
words, spaCy tokens and lemmas, stop words and short words included, so every model's words
are scored as shown; "NPMI words" splits phrases into their words first), topic diversity
(top 25 words), fit seconds. The embedding time shared by the precomputed rows is printed once. With ``--show-words`` the top 5 keywords of a few
topics are printed (keywords only, never segments).

Usage::

    .venv/bin/python benchmarks/topic_quality.py                      # both corpora
    .venv/bin/python benchmarks/topic_quality.py --corpus sample
    .venv/bin/python benchmarks/topic_quality.py --limit 8000         # the first 8,000 podcast sentences
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
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.conftest import PERFCORPUS, SAMPLE_STUDY  # noqa: E402
from toolkit import schema as s  # noqa: E402
from toolkit.topics.quality import lda_baseline, npmi_coherence, tokenise, topic_diversity  # noqa: E402

log = logging.getLogger("topic_quality")


# --------------------------------------------------------------------------- corpora
def sample_segments(workdir: Path) -> list[str]:
    """Evidence segments of the sample study, from a copy (the original is never written)."""
    from toolkit.config import load_config
    from toolkit.pipeline import run_study
    from toolkit.store import Store

    copy = workdir / "interviews"
    shutil.copytree(SAMPLE_STUDY, copy, ignore=shutil.ignore_patterns("exports", "models"))
    config = load_config(copy)
    try:
        store = Store(config.store_url)
        segments = store.segments_frame(evidence_only=True)
    except Exception as exc:  # noqa: BLE001 - an old or missing store: build it
        log.info("the copied store cannot be used (%s): running the pipeline", type(exc).__name__)
        segments = None
    if segments is None or segments.empty:
        shutil.rmtree(copy / "store", ignore_errors=True)
        shutil.rmtree(copy / "private", ignore_errors=True)
        store = Store(config.store_url)
        run_study(config, store=store)
        segments = store.segments_frame(evidence_only=True)
    return segments[s.TEXT].tolist()


def perfcorpus_segments(limit: int | None) -> list[str]:
    """The podcast transcripts split into sentences by the toolkit's segmenter."""
    import pandas as pd

    from benchmarks.scale_study import _parse_vtt_cues
    from toolkit.models import load_segmenter
    from toolkit.segment import segment_turns

    rows = []
    for k, path in enumerate(sorted(PERFCORPUS.glob("*.vtt"))):
        cues = [text for _, _, text in _parse_vtt_cues(path)]
        for j in range(0, len(cues), 40):  # paragraphs of 40 cues
            rows.append({s.TURN_ID: len(rows), s.SOURCE_ID: k, s.PATH: path.name, s.START_CHAR: 0,
                         s.TEXT: " ".join(cues[j : j + 40]), s.SPEAKER_ROLE: s.PARTICIPANT})
    segments = segment_turns(pd.DataFrame(rows), load_segmenter())
    texts = segments[s.TEXT].tolist()
    return texts[:limit] if limit else texts


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
def fit_ours(texts, vectors, embedder, *, seed: int, seeded: bool) -> tuple[dict, np.ndarray, str]:
    from toolkit.config import TopicOptions

    from toolkit.config import StudyConfig
    from toolkit.models import load_segmenter
    from toolkit.segment import content_lemmas
    from toolkit.topics.stage import build_modeller, load_topic_stopwords

    config = dataclasses.replace(StudyConfig.default(Path.cwd()), seed=seed, topics=TopicOptions(top_n_words=25))
    themes = []
    if seeded:
        from toolkit.codebook import load_codebook
        from toolkit.topics.stage import theme_prototypes

        themes = theme_prototypes(load_codebook(None), embedder)
    before = embedder.computed
    stop = load_topic_stopwords()
    nlp = load_segmenter()
    lemma_of = {  # as the topics stage has them (lemmas kept when segmenting)
        text: [w for w in content_lemmas(doc, 0, len(text)).split() if w not in stop]
        for text, doc in zip(texts, nlp.pipe(texts, batch_size=256))
    }
    model, backends = build_modeller(config, len(texts), embedder=embedder, lemmas=lambda ts: [lemma_of[t] for t in ts])
    model.fit(texts, vectors, themes=themes)
    note = ", ".join(backends.notes) + (f", {len(themes)} codebook themes" if seeded else ", no codebook")
    note += f"; embedded {embedder.computed - before} keyword/theme texts in fit"
    return model.topic_words_, np.asarray(model.labels_), note


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


def evaluate(name, words, labels, seconds, docs_tokens, note="") -> dict:
    labels = np.asarray(labels) if labels is not None else None
    n_topics = len([t for t in words if int(t) != -1])
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
    }


def compare(corpus: str, texts: list[str], args) -> tuple[list[dict], dict]:
    from toolkit.embed import CachedEmbedder
    from toolkit.models import load_embedder, load_segmenter

    info: dict = {"corpus": corpus, "segments": len(texts), "distinct": len(set(texts))}
    started = time.perf_counter()
    docs_tokens = windows(reference_tokens(texts, load_segmenter()), args.window)
    info["window"] = args.window
    info["tokenise_s"] = time.perf_counter() - started
    load_embedder()
    embedder = CachedEmbedder(None)
    started = time.perf_counter()
    vectors = embedder(texts)
    info["embed_s"] = time.perf_counter() - started
    rows = []

    started = time.perf_counter()
    try:
        words, labels, note = fit_ours(texts, vectors, embedder, seed=args.seed, seeded=corpus == "sample")
        rows.append(evaluate("ours (TopicModeller)", words, labels, time.perf_counter() - started, docs_tokens, note))
    except ImportError as exc:
        print(f"ours: toolkit.topics.TopicModeller not available ({exc}); row skipped")
    n_topics = rows[0]["topics"] if rows else None

    if not args.skip_bertopic_embedding:
        started = time.perf_counter()
        words, labels, note = bertopic_default(texts, seed=args.seed)
        rows.append(evaluate("BERTopic default (embeds itself)", words, labels, time.perf_counter() - started,
                             docs_tokens, note))
    started = time.perf_counter()
    words, labels, note = bertopic_default(texts, seed=args.seed, embeddings=vectors)
    rows.append(evaluate("BERTopic default, precomputed emb.", words, labels, time.perf_counter() - started,
                         docs_tokens, note))
    n_topics = n_topics or rows[-1]["topics"]

    started = time.perf_counter()
    words = lda_baseline(texts, max(2, n_topics), seed=args.seed, top_n=25)
    rows.append(evaluate("LDA (sklearn, batch)", words, None, time.perf_counter() - started, docs_tokens,
                         f"{max(2, n_topics)} topics, as many as the first row"))
    return rows, info


def table(rows: list[tuple], header: tuple) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([line.format(*header), line.format(*("-" * w for w in widths)), *(line.format(*r) for r in rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Topic quality of our model against BERTopic's default and LDA.")
    parser.add_argument("--corpus", choices=("sample", "perfcorpus", "both"), default="both")
    parser.add_argument("--limit", type=int, help="use only the first N podcast sentences")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--window", type=int, default=5,
                        help="NPMI reference documents: windows of this many consecutive segments (1 = single segments)")
    parser.add_argument("--skip-bertopic-embedding", action="store_true",
                        help="leave out the BERTopic row that embeds the documents itself (slow on big corpora)")
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
            corpora.append(("sample", lambda: sample_segments(workdir)))
        if args.corpus in ("perfcorpus", "both"):
            if any(PERFCORPUS.glob("*.vtt")):
                corpora.append(("perfcorpus", lambda: perfcorpus_segments(args.limit)))
            else:
                print(f"perfcorpus not found at {PERFCORPUS}: skipped")
        for corpus, load in corpora:
            texts = load()
            rows, info = compare(corpus, texts, args)
            results.append({"info": info, "rows": rows})
            print(f"\n== {corpus}: {info['segments']:,} segments ({info['distinct']:,} distinct); embedding them once "
                  f"(MiniLM) took {info['embed_s']:.1f} s, tokenising for NPMI {info['tokenise_s']:.1f} s; "
                  f"load average {os.getloadavg()[0]:.1f}")
            print(table(
                [(r["model"], r["topics"], f"{r['outlier_share']:.1%}", f"{r['npmi']:.3f}",
                  f"{r['npmi_words']:.3f}", f"{r['diversity']:.2f}",
                  f"{r['fit_s']:.1f}", r["note"]) for r in rows],
                ("model", "n topics", "outliers", "NPMI (mean)", "NPMI words", "diversity", "fit s", "note"),
            ))
            if args.show_words:
                for r in rows:
                    for t in sorted(k for k in r["words"] if k != -1)[:3]:
                        print(f"  {r['model'][:30]:<30} topic {t}: {', '.join(r['words'][t])}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
