"""``ctn bench embedding``: ways to embed the corpus faster, and whether retrieval stays the same.

Every variant embeds the same chunks (the corpus as ``Ingestor.prepare`` splits it) in the same process;
rounds rotate the order of the variants so that a change in the machine's load favours none. The
baseline is the product's own call, ``Embedder.embed``. A variant is only worth adopting if it is faster
*and* leaves retrieval unchanged: mean cosine to the baseline's embeddings of at least 0.999 and the same
top-5 from the product's dense retriever on 50 gold questions, each side with its own store.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ctn.bench import common
from ctn.bench.common import (
    PreparedDocument,
    finish_header,
    load_questions,
        phase,
    prepare_corpus,
    run_header,
    timed,
)
from ctn.bench.report import fmt, run_block, table
from ctn.bench.stats import median, ratio, summarize
from rag.settings import Settings

COSINE_BAR = 0.999
QUALITY_QUESTIONS = 50
TOP_K = 5


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    batch_size: int = 32
    threads: int | None = None
    weights: str = "fp32"  # fp32 | bf16 | autocast | int8
    order: str = "library"  # library: sentence-transformers sorts by length | unsorted | presorted


VARIANTS = [
    Variant("baseline", "fp32, batch 32, torch default threads (the product: `Embedder.embed`)"),
    Variant("threads2", "`torch.set_num_threads(2)`", threads=2),
    Variant("threads1", "`torch.set_num_threads(1)`", threads=1),
    Variant("unsorted", "batches in corpus order (length sorting defeated)", order="unsorted"),
    Variant("presorted", "our own sort by token count before `encode`", order="presorted"),
    Variant("batch16", "batch size 16", batch_size=16),
    Variant("batch64", "batch size 64", batch_size=64),
    Variant("bf16", "bf16 weights (`model.to(torch.bfloat16)`; CPU has avx512_bf16)", weights="bf16"),
    Variant("autocast", "bf16 autocast (`torch.autocast('cpu', torch.bfloat16)`)", weights="autocast"),
    Variant("int8", "dynamic int8 quantisation of the Linear layers", weights="int8"),
]


class Encoders:
    """One encode function per variant over the product's loaded model (copies only for bf16 / int8)."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self._models: dict[str, Any] = {"fp32": embedder.model, "autocast": embedder.model}

    def model(self, weights: str) -> Any:
        if weights not in self._models:
            import torch

            if weights == "bf16":
                self._models[weights] = copy.deepcopy(self.embedder.model).to(torch.bfloat16)
            elif weights == "int8":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._models[weights] = torch.ao.quantization.quantize_dynamic(
                        copy.deepcopy(self.embedder.model), {torch.nn.Linear}, dtype=torch.qint8)
            else:
                raise ValueError(weights)
        return self._models[weights]

    @contextmanager
    def _context(self, v: Variant) -> Iterator[None]:
        import torch

        previous = torch.get_num_threads()
        if v.threads:
            torch.set_num_threads(v.threads)
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if v.weights == "autocast" else nullcontext()
        try:
            with autocast, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
        finally:
            torch.set_num_threads(previous)

    def encode(self, v: Variant, texts: list[str]) -> np.ndarray:
        if v.key == "baseline":
            return self.embedder.embed(texts)
        model = self.model(v.weights)

        def run(batch: list[str]) -> np.ndarray:
            out = model.encode(batch, batch_size=v.batch_size, normalize_embeddings=True, convert_to_numpy=False,
                               convert_to_tensor=True, show_progress_bar=False)
            return out.float().numpy()

        with self._context(v):
            if v.order == "unsorted":
                vectors = np.concatenate([run(texts[i:i + v.batch_size]) for i in range(0, len(texts), v.batch_size)])
            elif v.order == "presorted":
                lengths = [len(ids) for ids in self.embedder.tokenizer(texts, add_special_tokens=True)["input_ids"]]
                order = np.argsort([-n for n in lengths], kind="stable")
                sorted_vectors = run([texts[i] for i in order])
                vectors = np.empty_like(sorted_vectors)
                vectors[order] = sorted_vectors
            else:
                vectors = run(texts)
        vectors = vectors.astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class _VariantQueries:
    """The embedder the dense retriever sees: queries embedded by the variant under test."""

    def __init__(self, encoders: Encoders, variant: Variant) -> None:
        self.encoders, self.variant = encoders, variant

    def embed_query(self, text: str) -> np.ndarray:
        return self.encoders.encode(self.variant, [text])[0]


def _dense_top(base: Path, key: str, docs: list[PreparedDocument], vectors: np.ndarray, queries: Any,
               questions: list[str]) -> list[list[str]]:
    """Top-5 chunk ids from the product's dense retriever over a store holding these vectors."""
    from rag.index import IndexManager
    from rag.retrieval import HybridRetriever, RetrievalConfig
    from rag.store import Store

    settings = Settings(data_dir=base / key, chroma_url=None)
    store = Store(settings)
    start = 0
    for d in docs:
        store.write_document(d.record, d.chunks, vectors[start:start + len(d.chunks)])
        start += len(d.chunks)
    store.bump()
    index = IndexManager(store, settings)
    index.load_or_build()
    retriever = HybridRetriever(index, store, queries, settings, RetrievalConfig(mode="dense"))
    return [[c.chunk_id for c in retriever.search(q, k=TOP_K)] for q in questions]


def run(corpus: Path, rounds: int, keys: list[str] | None, command: str) -> dict[str, Any]:
    header = run_header(command)
    variants = [v for v in VARIANTS if keys is None or v.key in keys or v.key == "baseline"]
    base = Path(tempfile.mkdtemp(prefix="ctn-bench-embedding-"))
    try:
        service = common.make_service(Settings(data_dir=base / "probe", corpus_dir=corpus.resolve(), chroma_url=None))
        embedder = service.embedder
        with phase("loading the embedding model"):
            embedder.embed_query("warm up")
        with phase("splitting the corpus (Ingestor.prepare)"):
            docs, _ = prepare_corpus(service, corpus.resolve())
        texts = [c.embed_text for d in docs for c in d.chunks]
        token_counts = [embedder.count_tokens(t) for t in texts]
        encoders = Encoders(embedder)
        for v in variants:  # build the bf16 / int8 copies and warm every path up, outside the timings
            encoders.encode(v, texts[:8])
        walls: dict[str, list[float]] = {v.key: [] for v in variants}
        cpus: dict[str, list[float]] = {v.key: [] for v in variants}
        vectors: dict[str, np.ndarray] = {}
        round_load: list[float] = []
        for r in range(rounds):
            round_load.append(os.getloadavg()[0])
            shift = r % len(variants)
            for v in variants[shift:] + variants[:shift]:
                with phase(f"round {r + 1}/{rounds}: {v.key} on {len(texts)} chunks"):
                    out, t = timed(lambda v=v: encoders.encode(v, texts))
                walls[v.key].append(t.wall_s)
                cpus[v.key].append(t.cpu_s)
                vectors.setdefault(v.key, out)
        questions = [q.question for q in load_questions() if not q.history][:QUALITY_QUESTIONS]
        query_ms: dict[str, list[float]] = {v.key: [] for v in variants}
        query_vectors: dict[str, list[np.ndarray]] = {v.key: [] for v in variants}
        with phase(f"embedding {len(questions)} questions one at a time with every variant"):
            for q in questions:
                for v in variants:
                    started = time.perf_counter()
                    query_vectors[v.key].append(encoders.encode(v, [q])[0])
                    query_ms[v.key].append((time.perf_counter() - started) * 1000)
        tops: dict[str, list[list[str]]] = {}
        with phase(f"top-{TOP_K} of the dense retriever on {len(questions)} questions, one store per variant"):
            for v in variants:
                tops[v.key] = _dense_top(base, v.key, docs, vectors[v.key], _VariantQueries(encoders, v), questions)
        finish_header(header)
        ref = vectors["baseline"]
        ref_q = np.stack(query_vectors["baseline"])
        out: dict[str, Any] = {}
        for v in variants:
            cos = np.sum(vectors[v.key] * ref, axis=1)
            qcos = np.sum(np.stack(query_vectors[v.key]) * ref_q, axis=1)
            speedups = [ratio(b, w) for b, w in zip(walls["baseline"], walls[v.key], strict=True)]
            same_order = sum(a == b for a, b in zip(tops[v.key], tops["baseline"], strict=True))
            same_set = sum(set(a) == set(b) for a, b in zip(tops[v.key], tops["baseline"], strict=True))
            out[v.key] = {"label": v.label, "wall_s": walls[v.key], "cpu_s": cpus[v.key],
                          "chunks_per_s": len(texts) / median(walls[v.key]), "speedup": median(speedups),
                          "speedup_cpu": ratio(median(cpus["baseline"]), median(cpus[v.key])),
                          "query_ms": summarize(query_ms[v.key]), "cos_mean": float(cos.mean()),
                          "cos_min": float(cos.min()), "query_cos_mean": float(qcos.mean()),
                          "top5_same_order": same_order, "top5_same_set": same_set}
        # set_num_threads(2) is the default on this 2-core machine: its distance from 1.0 is pure noise.
        noise = abs(out["threads2"]["speedup"] - 1.0) if "threads2" in out else 0.0
        noise_cpu = abs(out["threads2"]["speedup_cpu"] - 1.0) if "threads2" in out else 0.0
        bar, bar_cpu = 1.0 + max(0.05, noise), 1.0 + max(0.05, noise_cpu)
        for key, o in out.items():
            faster = key != "baseline" and ((o["speedup"] > bar and o["speedup_cpu"] > 1.0)
                                            or (o["speedup_cpu"] > bar_cpu and o["speedup"] >= 1.0))
            quality = o["cos_mean"] >= COSINE_BAR and o["top5_same_order"] == len(questions)
            o["faster"], o["quality_ok"] = faster, quality
            per_round = [ratio(b, w) for b, w in zip(walls["baseline"], o["wall_s"], strict=True)]
            o["speedup_rounds"] = per_round
            mixed = faster and min(per_round) < 1.0 / bar
            o["verdict"] = ("reference" if key == "baseline" else
                            "faster in some rounds, slower in others (depends on the load): see below" if mixed else
                            "faster, retrieval unchanged: candidate" if faster and quality else
                            "faster, but retrieval changes: rejected" if faster else "not faster")
        return {"header": header, "chunks": len(texts), "documents": len(docs), "rounds": rounds,
                "tokens": summarize([float(n) for n in token_counts]), "questions": len(questions),
                "speed_bar": bar, "speed_bar_cpu": bar_cpu, "variants": out, "round_load": round_load}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def render(res: dict[str, Any]) -> str:
    n_q = res["questions"]
    rows = []
    for o in res["variants"].values():
        rows.append([o["label"], fmt(o["chunks_per_s"]), f"{o['speedup']:.2f}×", f"{o['speedup_cpu']:.2f}×",
                     fmt(o["query_ms"]["p50"]), f"{o['cos_mean']:.5f}", f"{o['cos_min']:.4f}",
                     f"{o['query_cos_mean']:.5f}", f"{o['top5_same_order']}/{n_q} ({o['top5_same_set']}/{n_q})",
                     o["verdict"]])
    tok = res["tokens"]
    return "\n".join([
        "## Embedding speed-ups (`ctn bench embedding`)",
        "",
        run_block(res["header"]),
        "",
        f"All {res['chunks']} chunks of the corpus ({res['documents']} documents; `embed_text` of "
        f"{tok['p50']:.0f} word pieces at the median, {tok['max']:.0f} at most), embedded by every variant in "
        f"each of {res['rounds']} rounds, the variants' order rotating between rounds. Speed-up is the median "
        "over rounds of baseline time / variant time in the same round (on wall time; also on this process's "
        "CPU time). Quality: cosine of each chunk's and each question's embedding to the baseline's, and "
        f"questions ({n_q} standalone gold questions) whose top-{TOP_K} from the product's dense retriever "
        "(`HybridRetriever`, mode dense, each variant with its own store) is identical in order (as a set in "
        f"brackets). A variant counts as faster above {res['speed_bar']:.2f}× on wall time, or above "
        f"{res['speed_bar_cpu']:.2f}× on CPU time without being slower on wall time (5%, or the distance from 1 "
        "of the `set_num_threads(2)` row, which is the default here and so measures the noise, if larger). "
        "Under a high load the CPU-time column is the steadier one: contention stretches wall time far more "
        "than the work done.",
        "",
        table(["variant", "chunks/s", "speed-up", "on CPU time", "query ms p50", "mean cos", "min cos",
               "query cos", f"same top-{TOP_K}", "verdict"], rows, "lrrrrrrrrl"),
        "",
        "Seconds per round (wall), to show how the load moved the figures"
        + (" (1-minute load average at the start of each round in the header row)" if res.get("round_load") else "")
        + ":",
        "",
        _rounds_table(res),
        "",
        "ONNX Runtime was not measured: sentence-transformers' ONNX backend exports through optimum-onnx, "
        "which needs transformers below 4.58 while sentence-transformers 6 needs transformers 5, so the two "
        "cannot be installed together today (GUIDE §3); it was not installed. See "
        "[ADR 0004](adr/0004-embedding-speed.md) for the decision.",
    ])


def _rounds_table(res: dict[str, Any]) -> str:
    rounds = res["rounds"]
    loads = res.get("round_load") or []
    headers = ["variant"] + [f"round {r + 1}" + (f" (load {loads[r]:.1f})" if r < len(loads) else "")
                             for r in range(rounds)] + ["speed-up per round"]
    rows = [[key, *[fmt(w) for w in o["wall_s"]], ", ".join(f"{x:.2f}" for x in o.get("speedup_rounds", []))]
            for key, o in res["variants"].items()]
    return table(headers, rows)
