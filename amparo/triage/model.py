"""Running a shipped triage model: int8 ONNX on the CPU, no PyTorch.

A model directory holds ``model.onnx``, ``tokenizer.json``, ``labels.json`` and ``card.json``
(written by amparo.triage.training). Texts are tokenised in Python (amparo.triage.wordpiece),
once for all models that share a tokenizer (:func:`run_together`), grouped by length so that
a batch pads little, and scored by onnxruntime. Each session computes on one thread, and
``threads`` batches run at once: on two cores, two single-threaded batches side by side do
more than one batch split over two threads, whose workers spin while they wait for each other
and for the cores the rules also need. Identical texts (campaigns repeat themselves) are
scored once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from amparo.triage.wordpiece import WordPiece

__all__ = ["MODELS", "Classifier", "ModelMissing", "run_together"]

MODELS = Path(__file__).parent / "models"
# onnxruntime would merge each residual Add and LayerNormalization into one
# SkipLayerNormalization, whose CPU kernel is much the slower (2.2 ms against 0.5 ms for the
# pair on 32 x 33 x 384 values, onnxruntime 1.32): without the merge a post costs 15 % less.
SLOW_FUSIONS = ["SkipLayerNormFusion"]
# Smaller batches keep a layer's activations (16 posts x 33 tokens x 1,536 values) in the
# core's cache: 16 costs 7 % less a post than 32. 8 saves 1 % more but lowers B's test
# macro-F1 by 0.011 (a batch's activations are quantised together; docs/triage.md).
BATCH = 16
Progress = Callable[[int, int], None]


class ModelMissing(FileNotFoundError):
    pass


@dataclass
class Classifier:
    """One task's model; ``probabilities`` gives a row of label probabilities per text."""

    labels: list[str]
    card: dict[str, Any]
    tokenizer: WordPiece
    session: Any  # onnxruntime.InferenceSession
    max_length: int = 128
    threads: int = 2  # batches at once, each on one thread
    tokenizer_sha256: str = ""

    @classmethod
    def load(cls, directory: Path, threads: int = 2) -> Classifier:
        files = {n: directory / n for n in ("model.onnx", "tokenizer.json", "labels.json",
                                              "card.json")}  # fmt: skip
        missing = [n for n, p in files.items() if not p.exists()]
        if missing:
            raise ModelMissing(f"{directory}: no {', '.join(missing)} (train with "
                               "'amparo triage train')")  # fmt: skip
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(
            str(files["model.onnx"]), options, providers=["CPUExecutionProvider"],
            disabled_optimizers=SLOW_FUSIONS,
        )  # fmt: skip
        card = json.loads(files["card.json"].read_text(encoding="utf-8"))
        return cls(
            labels=json.loads(files["labels.json"].read_text(encoding="utf-8")),
            card=card,
            tokenizer=WordPiece.from_file(files["tokenizer.json"]),
            session=session,
            max_length=int(card.get("settings", {}).get("max_length", 128)),
            threads=max(1, threads),
            tokenizer_sha256=hashlib.sha256(files["tokenizer.json"].read_bytes()).hexdigest(),
        )

    @property
    def model_id(self) -> str:
        return str(self.card["model_id"])

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.tokenizer.encode(t, self.max_length) for t in texts]

    def probabilities(
        self, texts: Sequence[str], batch_size: int = BATCH, progress: Progress | None = None
    ) -> np.ndarray:
        unique = list(dict.fromkeys(texts))
        (out,) = run_together([self], self.encode(unique), batch_size, progress)
        position = {t: i for i, t in enumerate(unique)}
        return out[[position[t] for t in texts]] if texts else out


def run_together(
    classifiers: Sequence[Classifier], encoded: Sequence[Sequence[int]], batch_size: int = BATCH,
    progress: Progress | None = None,
) -> list[np.ndarray]:  # fmt: skip
    """Each classifier's probabilities (a row per encoded text) for token ids made by a tokenizer
    they all share: the same padded batches go to every model, ``threads`` batches at a time."""
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    chunks = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    outs = [np.zeros((len(encoded), len(c.labels)), dtype=np.float32) for c in classifiers]

    def batch(chosen: list[int]) -> dict[str, np.ndarray]:
        width = max(len(encoded[i]) for i in chosen)
        ids = np.zeros((len(chosen), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, i in enumerate(chosen):
            ids[row, : len(encoded[i])] = encoded[i]
            mask[row, : len(encoded[i])] = 1
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}

    def score(job: tuple[int, int]) -> np.ndarray:
        model, chunk = job
        (logits,) = classifiers[model].session.run(["logits"], batch(chunks[chunk]))
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return np.asarray(shifted / shifted.sum(axis=1, keepdims=True), dtype=np.float32)

    jobs = [(m, c) for c in range(len(chunks)) for m in range(len(classifiers))]
    threads = min(c.threads for c in classifiers) if classifiers else 1
    done = 0
    with ThreadPoolExecutor(max(1, threads)) as pool:
        for (model, chunk), probs in zip(jobs, pool.map(score, jobs), strict=True):
            outs[model][chunks[chunk]] = probs
            if model == len(classifiers) - 1 and progress is not None:
                done += len(chunks[chunk])
                progress(done, len(order))
    return outs
