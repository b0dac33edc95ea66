"""How fast is each sentence embedder, and how close to MiniLM? Prints a table; asserts nothing.

    python benchmarks/embedder_speed.py [--segments 5000] [--with-e5] [--onnx-variants]

On real speech (participant sentences of the podcast transcripts in ``../shared/perfcorpus``, the
scale study's source; only counts and timings are printed), in one process, each candidate embeds
the same sentences:

* ``minilm``: all-MiniLM-L6-v2 through sentence-transformers/torch, as the pipeline did and plain
  BERTopic does;
* ``minilm-int8``: the toolkit's ONNX int8 MiniLM (built by the set-up, ``toolkit.distil``; one text
  per call, so a text's vector never depends on its batch);
* ``static``: the static embedder the set-up distils from MiniLM (``toolkit.distil``);
* with ``--onnx-variants``, two exports made here for comparison: ``onnx-fp32`` (MiniLM in ONNX without
  quantisation) and ``onnx-int8-all`` (every op quantised, per tensor), both in length-sorted batches of 64;
* ``e5`` with ``--with-e5``.

Columns: segments per second (warm: model loaded), load seconds, the estimated time for 25,000
segments, the mean cosine to MiniLM's vector of the same sentence (same space only), and how many of
each sentence's 10 nearest neighbours under MiniLM the candidate also finds (any space; what
clustering and nearest-prototype coding depend on).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def real_sentences(n: int, seed: int = 7) -> list[str]:
    """Participant sentences (>= 4 words) of the scale study's real speech, in a seeded order."""
    from scale_study import MIN_WORDS, PERFCORPUS, real_speech_interviews, split_sentences

    out: list[str] = []
    for turns, _ in real_speech_interviews(PERFCORPUS, n + n // 5, random.Random(seed)):
        for turn in turns:
            if turn.role != "interviewer":
                out.extend(s for s in split_sentences(turn.text) if len(s.split()) >= MIN_WORDS)
    random.Random(seed).shuffle(out)
    return out[:n]


def onnx_encoders(workdir: Path, batch_size: int = 64) -> dict[str, tuple[float, object]]:
    """Export the packaged MiniLM to ONNX (mean pooling and normalisation inside the graph), quantise it."""
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer
    from transformers import AutoModel

    from toolkit.distil import pooled
    from toolkit.models import embedder_path

    started = time.perf_counter()
    bert = AutoModel.from_pretrained(str(embedder_path()), attn_implementation="eager").eval()

    fp32 = workdir / "minilm.onnx"
    dummy = torch.ones((2, 8), dtype=torch.long)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(pooled(bert), (dummy, dummy), str(fp32), input_names=["input_ids", "attention_mask"],
                          output_names=["embedding"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"},
                                        "embedding": {0: "b"}})
    export_s = time.perf_counter() - started
    int8 = workdir / "minilm-int8.onnx"
    started = time.perf_counter()
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    quant_s = time.perf_counter() - started
    print(f"(onnx: export {export_s:.1f} s, int8 quantisation {quant_s:.1f} s; "
          f"{fp32.stat().st_size / 1e6:.0f} MB fp32, {int8.stat().st_size / 1e6:.0f} MB int8)")

    tokenizer = Tokenizer.from_file(str(embedder_path() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)

    def make(path: Path):
        def load():
            options = ort.SessionOptions()
            options.intra_op_num_threads = os.cpu_count() or 1
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

            def encode(texts: list[str]) -> np.ndarray:
                order = np.argsort([len(t) for t in texts], kind="stable")
                out = np.zeros((len(texts), 384), dtype=np.float32)
                for start in range(0, len(texts), batch_size):
                    rows = order[start : start + batch_size]
                    encodings = tokenizer.encode_batch([texts[i] for i in rows])
                    width = max(len(e.ids) for e in encodings)
                    ids = np.zeros((len(rows), width), dtype=np.int64)
                    mask = np.zeros((len(rows), width), dtype=np.int64)
                    for j, e in enumerate(encodings):
                        ids[j, : len(e.ids)] = e.ids
                        mask[j, : len(e.ids)] = 1
                    out[rows] = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
                return out

            return encode

        return load

    return {"onnx-fp32": make(fp32), "onnx-int8-all": make(int8)}


def knn_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean share of each row's k nearest neighbours (cosine) that two embeddings agree on."""
    def neighbours(m):
        sims = m @ m.T
        np.fill_diagonal(sims, -np.inf)
        return np.argpartition(-sims, k, axis=1)[:, :k]

    na, nb = neighbours(a), neighbours(b)
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(na, nb)]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=5000)
    parser.add_argument("--with-e5", action="store_true")
    parser.add_argument("--onnx-variants", action="store_true", help="also fp32 and all-ops int8 ONNX exports")
    args = parser.parse_args(argv)

    from toolkit.embed import e5_encoder, int8_encoder, minilm_encoder, static_encoder

    texts = real_sentences(args.segments)
    words = np.array([len(t.split()) for t in texts])
    print(f"{len(texts)} real sentences (words: median {np.median(words):.0f}, max {words.max()}); "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")

    loaders: dict[str, object] = {"minilm": minilm_encoder, "minilm-int8": int8_encoder, "static": static_encoder}
    tmp = tempfile.TemporaryDirectory(prefix="embedder-speed-")
    if args.onnx_variants:
        loaders.update(onnx_encoders(Path(tmp.name)))
    if args.with_e5:
        loaders["e5"] = e5_encoder

    rows, vectors = [], {}
    for name, load in loaders.items():
        started = time.perf_counter()
        encode = load()
        encode(texts[:32])  # warm-up
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        out = np.asarray(encode(texts), dtype=np.float32)
        seconds = time.perf_counter() - started
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        vectors[name] = out
        rows.append((name, len(texts) / seconds, load_s, 25_000 * seconds / len(texts), out.shape[1]))

    base = vectors["minilm"]
    print(f"\n{'embedder':<18}{'dims':>5}{'segments/s':>12}{'vs minilm':>10}{'load s':>8}{'25k est. s':>11}"
          f"{'cos to minilm':>14}{'10-NN overlap':>14}")
    for name, rate, load_s, est, dims in rows:
        same = vectors[name].shape == base.shape and name != "e5"
        cosine = f"{float(np.mean(np.sum(vectors[name] * base, axis=1))):.4f}" if same else "-"
        overlap = knn_overlap(vectors[name], base)
        print(f"{name:<18}{dims:>5}{rate:>12.0f}{rate / rows[0][1]:>9.1f}x{load_s:>8.1f}{est:>11.1f}{cosine:>14}"
              f"{overlap:>14.3f}")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
