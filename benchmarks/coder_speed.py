"""How fast is the coder at study scale? Prints figures; asserts nothing.

    python benchmarks/coder_speed.py [--units 25000] [--embed-sample 400]

* the coder's own cost (fit, and coding N units with embeddings already computed: the pipeline's
  cache makes that the common case), on real podcast sentences (../shared/perfcorpus);
* each embedder's rate on a sample of the same sentences (e5 and MiniLM), from which a cold
  25,000-unit study's embedding time follows.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PERF = Path(__file__).resolve().parents[2] / "shared" / "perfcorpus"


def sentences(limit: int) -> list[str]:
    out: list[str] = []
    for path in sorted(PERF.glob("*.vtt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        body = " ".join(line for line in text.splitlines() if line and "-->" not in line and not line.startswith("WEBVTT"))
        body = re.sub(r"<[^>]+>", " ", body)
        out.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", body) if len(s.split()) >= 4)
        if len(out) >= limit:
            break
    return out[:limit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=25000)
    parser.add_argument("--embed-sample", type=int, default=400)
    args = parser.parse_args()
    from toolkit.codebook import load_codebook
    from toolkit.coding import ThemeCoder
    from toolkit.embed import make_encoder
    from toolkit.models import load_spacy

    texts = sentences(args.units)
    print(f"{len(texts)} sentences from {PERF}")
    for name in ("minilm", "e5"):
        model, encoder = make_encoder(name)
        encoder(texts[:8])  # load
        sample = texts[: args.embed_sample]
        start = time.perf_counter()
        vectors = np.asarray(encoder(sample))
        rate = len(sample) / (time.perf_counter() - start)
        print(f"embedding {model}: {rate:.0f} sentences/s (dim {vectors.shape[1]}) -> {len(texts) / rate:.0f} s "
              f"for {len(texts)} units cold")
        table = dict(zip(sample, vectors))
        rng = np.random.default_rng(0)
        # the rest of the units get vectors near the sample's (the coder's cost does not depend on their values)
        fill = {t: table[sample[i % len(sample)]] + 0.01 * rng.standard_normal(vectors.shape[1]).astype(np.float32)
                for i, t in enumerate(texts) if t not in table}
        table.update(fill)

        def cached(batch, table=table, encoder=encoder):
            missing = [t for t in batch if t not in table]
            if missing:
                table.update(zip(missing, np.asarray(encoder(missing))))
            return np.vstack([table[t] for t in batch])

        nlp = load_spacy(disable=("ner", "parser"))
        start = time.perf_counter()
        coder = ThemeCoder(codebook=load_codebook(), embedder=cached, nlp=nlp).fit()
        fit = time.perf_counter() - start
        frame = pd.DataFrame({"text": texts, "prompt": ["What gets in the way?"] * len(texts)})
        start = time.perf_counter()
        out = coder.predict(frame)
        seconds = time.perf_counter() - start
        coded = out.loc[out["rank"] == 1, "theme"].notna().mean()
        print(f"  coder ({name} vectors): fit {fit:.1f} s; coded {len(texts)} units in {seconds:.1f} s "
              f"({len(texts) / seconds:.0f} units/s, embeddings cached; {coded:.0%} given a theme)")


if __name__ == "__main__":
    main()
