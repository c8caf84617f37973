"""Running a shipped triage model: int8 ONNX on the CPU, no PyTorch.

A model directory holds ``model.onnx``, ``tokenizer.json``, ``labels.json`` and ``card.json``
(written by amparo.triage.training). Texts are tokenised in Python (amparo.triage.wordpiece),
grouped by length so that a batch pads little, and scored by onnxruntime on a fixed number of
threads. Identical texts (campaigns repeat themselves) are scored once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from amparo.triage.wordpiece import WordPiece

__all__ = ["MODELS", "Classifier", "ModelMissing"]

MODELS = Path(__file__).parent / "models"
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
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            str(files["model.onnx"]), options, providers=["CPUExecutionProvider"]
        )
        card = json.loads(files["card.json"].read_text(encoding="utf-8"))
        return cls(
            labels=json.loads(files["labels.json"].read_text(encoding="utf-8")),
            card=card,
            tokenizer=WordPiece.from_file(files["tokenizer.json"]),
            session=session,
            max_length=int(card.get("settings", {}).get("max_length", 128)),
        )

    @property
    def model_id(self) -> str:
        return str(self.card["model_id"])

    def probabilities(
        self, texts: Sequence[str], batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        unique = list(dict.fromkeys(texts))
        encoded = [self.tokenizer.encode(t, self.max_length) for t in unique]
        order = sorted(range(len(unique)), key=lambda i: len(encoded[i]))
        out = np.zeros((len(unique), len(self.labels)), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            width = max(len(encoded[i]) for i in chosen)
            ids = np.zeros((len(chosen), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, i in enumerate(chosen):
                ids[row, : len(encoded[i])] = encoded[i]
                mask[row, : len(encoded[i])] = 1
            (logits,) = self.session.run(
                ["logits"],
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            out[chosen] = shifted / shifted.sum(axis=1, keepdims=True)
            if progress is not None:
                progress(min(start + batch_size, len(order)), len(order))
        position = {t: i for i, t in enumerate(unique)}
        return out[[position[t] for t in texts]] if texts else out
