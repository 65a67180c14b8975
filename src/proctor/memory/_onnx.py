"""``OnnxMiniLMEmbedder``: sentence embeddings from a MiniLM model exported to ONNX, loaded from
a local directory. Nothing is downloaded: the directory must hold ``model.onnx`` and the
tokenizer's ``tokenizer.json`` (as exported from ``sentence-transformers/all-MiniLM-L6-v2``).

``onnxruntime``, ``tokenizers`` and ``numpy`` are imported when the embedder is created, not
when Proctor is: they are not core dependencies (``pip install onnxruntime tokenizers``).
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from proctor.errors import MemoryVectorError

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise MemoryVectorError(
            f"the MiniLM embedder needs the {name!r} package (pip install onnxruntime "
            "tokenizers); it is not a core dependency"
        ) from exc


class OnnxMiniLMEmbedder:
    """Mean-pooled, unit-length MiniLM sentence vectors (384 dimensions for L6-v2).

    ``path``: the directory of ``model.onnx`` and ``tokenizer.json``. ``name`` is
    ``minilm:`` and the first 16 hex digits of the model file's SHA-256, so that vectors of
    another model file are never compared with these. Raises ``MemoryVectorError`` if a file
    or a package is missing, or the model does not look like a sentence encoder."""

    def __init__(self, path: str | Path, *, max_tokens: int = 256, threads: int = 1) -> None:
        root = Path(path)
        model, tok = root / MODEL_FILE, root / TOKENIZER_FILE
        for f in (model, tok):
            if not f.is_file():
                raise MemoryVectorError(
                    f"MiniLM embedder: no {f.name} in {root} (nothing is "
                    "downloaded: export the model there first)"
                )
        self._np = _module("numpy")
        ort = _module("onnxruntime")
        tokenizers = _module("tokenizers")
        digest = hashlib.sha256()
        with model.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        self._name = f"minilm:{digest.hexdigest()[:16]}"
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(model), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= self._inputs:
            raise MemoryVectorError(
                f"{model} takes {sorted(self._inputs)}; a sentence encoder takes input_ids "
                "and attention_mask"
            )
        self._tokenizer = tokenizers.Tokenizer.from_file(str(tok))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.enable_padding()
        self._lock = threading.Lock()  # the tokenizer's padding state is shared
        self._dimensions = int(self._run(["dimensions"]).shape[1])

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def _run(self, texts: Sequence[str]) -> Any:
        np = self._np
        with self._lock:
            encoded = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0]  # (batch, tokens, dimensions)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return [[float(x) for x in row] for row in self._run(texts)]
