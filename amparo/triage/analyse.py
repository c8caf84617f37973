"""Triage of a batch of messages: categories with scores, urgency with reasons, per message
and per defender and period.

Three sources of evidence, each named in the reasons a reviewer reads:

- the **models** trained on EDOS (English posts): sexist or not (task A), the kind of sexism
  (task B: threats, derogation, animosity, prejudiced discussion) and its fine-grained
  vector (task C). They speak for English only; for a message in another language their
  scores are shown but do not decide anything;
- the **rules** (amparo.triage.rules): threats, sexualised harassment and smears, English and
  Spanish;
- the **doxxing** finder (amparo.triage.doxxing), language-independent.

Categories (TRIAGE.md): threat, sexual_harassment, sexist_derogation, smear, doxxing, none.
Identity hate has neither training data nor rules yet, so it is not reported at all rather
than reported badly.

Urgency (0-100) is the most severe category's score times its severity, raised when a
threat comes with personal details or a time ("tonight", "mañana"), and by the share of the
batch aimed at the same person; the reasons say which.
"""

from __future__ import annotations

import queue
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from amparo.triage import doxxing, rules
from amparo.triage.hierarchy import Combination
from amparo.triage.language import identify
from amparo.triage.linear import LinearModel
from amparo.triage.model import MODELS, Classifier, ModelMissing, run_together
from amparo.triage.normalise import Normalised, edos_style, normalise
from amparo.triage.screen import Screen

__all__ = ["CATEGORIES", "SEVERITY", "FirstReading", "Result", "Triage", "by_period"]

CATEGORIES = ("threat", "sexual_harassment", "sexist_derogation", "smear", "doxxing")
SEVERITY = {"threat": 1.0, "doxxing": 0.9, "sexual_harassment": 0.7, "smear": 0.6,
            "sexist_derogation": 0.5}  # fmt: skip
THRESHOLD = 0.5  # a category is named when its score reaches this
# The kind of sexism is asked of the models only from this probability of it: a threat or
# objectification score is that probability times the kind's, so below THRESHOLD it could
# never name the category.
LIKELY = THRESHOLD
SLICE = 512  # texts screened and tokenised at a time while the models run (Triage.analyse)
MODEL_LANGUAGES = ("en",)  # what the EDOS models were trained and measured on
THREAT_B = "1. threats, plans to harm and incitement"
OBJECTIFICATION_C = "2.3 dehumanising attacks & overt sexual objectification"
SOON = re.compile(
    r"\b(?:tonight|tomorrow|today|this\s+(?:week|weekend|evening)|esta\s+noche|mañana|hoy|"
    r"este\s+fin\s+de\s+semana|ce\s+soir|demain|aujourd'hui|hoje|amanhã|esta\s+noite)\b",
    re.IGNORECASE,
)
WEAPONS = frozenset({
    "emoji_hocho", "emoji_pistol", "emoji_water_pistol", "emoji_coffin", "emoji_skull",
    "emoji_bomb", "emoji_dagger_knife", "emoji_funeral_urn",
})  # fmt: skip
Progress = Callable[[str, int, int], None]


_Evidence = tuple[Normalised, str, list[rules.RuleHit], list[doxxing.Finding]]


def _evidence(text: str) -> _Evidence:
    message = normalise(text)
    return message, identify(text)[0], rules.match(message), doxxing.find(text)


@dataclass(frozen=True)
class Result:
    id: str
    language: str
    scores: dict[str, float]
    categories: list[str]  # named categories, most severe first; ["none"] if none
    urgency: int  # 0..100
    reasons: list[str]
    model_id: str
    doxxing: list[doxxing.Finding] = field(default_factory=list)
    model_scores: dict[str, float] = field(default_factory=dict)  # sexist, threats, ...


@dataclass(frozen=True)
class FirstReading:
    screened: np.ndarray | None  # the screen's probability of sexism per text, if a screen ran
    asked: list[int]  # the texts (positions) that go on to task A's transformer
    encoded: list[list[int]]  # their token ids, in the order of ``asked``


@dataclass
class Triage:
    """Loads the shipped models once (or runs on rules alone when ``models`` is None)."""

    sexist: Classifier | None
    category: Classifier | None
    vector: Classifier | None
    combination: Combination = field(default_factory=Combination)
    linear: LinearModel | None = None  # B's and C's second opinion (amparo.triage.linear)
    screen: Screen | None = None  # reads every post before A's transformer (.screen)

    @classmethod
    def load(cls, models: Path | None = MODELS, threads: int = 2) -> Triage:
        if models is None:
            return cls(None, None, None)
        loaded: list[Classifier | None] = []
        for task in ("a", "b", "c"):
            try:
                loaded.append(Classifier.load(models / task, threads))
            except ModelMissing:
                if models != MODELS and task == "a":
                    raise
                loaded.append(None)  # a checkout without this model: the rest still work
        sexist, category, vector = loaded
        linear = LinearModel.load(models / "linear")
        if (
            linear is not None
            and category is not None
            and vector is not None
            and (linear.heads["B"][0] != category.labels or linear.heads["C"][0] != vector.labels)
        ):
            raise ValueError(f"{models / 'linear'}: labels differ from the B and C models'")
        return cls(sexist, category if sexist else None, vector if sexist else None,
                   Combination.load(models / "combine.json"), linear,
                   Screen.load(models / "screen") if sexist else None)  # fmt: skip

    @property
    def model_id(self) -> str:
        if self.sexist is None:
            return "rules-only"
        parts = [c.model_id for c in (self.sexist, self.category, self.vector) if c]
        if self.screen is not None:
            parts.insert(1, self.screen.model_id)
        if self.linear is not None and self.category is not None:
            parts.append(self.linear.model_id)
        return "+".join(parts)

    def analyse(
        self, ids: Sequence[str], texts: Sequence[str], progress: Progress | None = None
    ) -> list[Result]:
        n = len(texts)
        # The screen and the tokeniser first, alone: beside the rules, they would share the
        # interpreter lock and the models would start later. Then the models run in a worker
        # thread (onnxruntime lets go of the lock) while this thread reads the rules and
        # personal details: both cores stay busy.
        styled = [edos_style(t) for t in texts]
        unique = list(dict.fromkeys(styled))
        readings: queue.SimpleQueue[tuple[int, FirstReading] | None] = queue.SimpleQueue()
        with ThreadPoolExecutor(1) as pool:
            scored = pool.submit(self._model_scores, styled, unique, readings, progress)
            if self.sexist is not None:
                # A slice at a time, so that task A's transformer starts on the first slice
                # while the screen reads the next.
                for start in range(0, len(unique), SLICE):
                    readings.put((start, self.first_reading(unique[start : start + SLICE])))
            readings.put(None)
            parts = []
            for i, text in enumerate(texts):
                parts.append(_evidence(text))
                if progress is not None and (i + 1) % 1000 == 0:
                    progress("rules", i + 1, n)
            model_scores = scored.result()
        return [self._combine(ids[i], parts[i], model_scores[i]) for i in range(n)]

    def first_reading(self, texts: Sequence[str]) -> FirstReading:
        """The screen's probabilities (amparo.triage.screen), which texts go on to task A's
        transformer, and their token ids."""
        assert self.sexist is not None
        if self.screen is None:
            return FirstReading(None, list(range(len(texts))), self.encode(texts))
        screened = self.screen.probabilities(texts)
        asked = np.flatnonzero(self.screen.passes(screened)).tolist()
        return FirstReading(screened, asked, self.encode([texts[i] for i in asked]))

    def sexist_probabilities(
        self, first: FirstReading, count: int, progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Task A: the probability that each of ``count`` texts is sexist, the screen's where
        it was sure and the transformer's elsewhere."""
        assert self.sexist is not None
        p_sexist = (np.zeros(count, dtype=np.float32) if first.screened is None
                    else first.screened.copy())  # fmt: skip
        if first.asked:
            (probs,) = run_together([self.sexist], first.encoded, progress=progress)
            p_sexist[first.asked] = probs[:, self.sexist.labels.index("sexist")]
        return p_sexist

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids for the models: all three share one tokenizer (checked at load), so a text
        is tokenised once."""
        assert self.sexist is not None
        return self.sexist.encode(texts)

    def _shared(self, model: Classifier) -> bool:
        return self.sexist is not None and model.tokenizer_sha256 == self.sexist.tokenizer_sha256

    def kinds(
        self, texts: Sequence[str], encoded: Sequence[Sequence[int]] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Combined B probabilities and C scores (rows: ``texts``, columns: the B and C models'
        labels), the linear model mixed in where there is one."""
        assert self.category is not None and self.vector is not None
        category, vector = self.category, self.vector
        with ThreadPoolExecutor(1) as pool:  # the linear model reads while B and C run
            if encoded is not None and self._shared(category) and self._shared(vector):
                both = pool.submit(run_together, [category, vector], encoded)
            else:
                both = pool.submit(lambda: [category.probabilities(texts),
                                            vector.probabilities(texts)])  # fmt: skip
            linear = self.linear.probabilities(texts) if self.linear is not None else None
            pb, pc = both.result()
        return self.combination.apply(pb, pc, category.labels, vector.labels, linear)

    def _model_scores(
        self, texts: Sequence[str], unique: Sequence[str],
        readings: queue.SimpleQueue[tuple[int, FirstReading] | None], progress: Progress | None,
    ) -> list[dict[str, float]]:  # fmt: skip
        """The models' scores per text; ``unique``: the texts once each; ``readings``: what
        the screen made of each slice of them (its first position and reading), then None."""
        n = len(texts)
        model_scores: list[dict[str, float]] = [{} for _ in range(n)]
        p_sexist = np.zeros(len(unique), dtype=np.float32)
        asked: list[int] = []
        encoded: list[list[int]] = []
        while (item := readings.get()) is not None:
            start, first = item
            size = min(SLICE, len(unique) - start)
            p_sexist[start : start + size] = self.sexist_probabilities(first, size)
            asked += [start + i for i in first.asked]
            encoded += first.encoded
            if progress is not None:
                progress("model A", start + size, len(unique))
        if self.sexist is None or not n:
            return model_scores
        # The kind of sexism only where the post may be sexist at all (never one the screen
        # was sure of: its threshold is below LIKELY).
        row_of = {i: row for row, i in enumerate(asked)}
        likely = [i for i in asked if p_sexist[i] >= LIKELY]
        threats: dict[int, float] = {}
        objectified: dict[int, float] = {}
        if self.category is not None and self.vector is not None and likely:
            pb, pc = self.kinds([unique[i] for i in likely],
                                [encoded[row_of[i]] for i in likely])  # fmt: skip
            b_threat = pb[:, self.category.labels.index(THREAT_B)]
            c_object = pc[:, self.vector.labels.index(OBJECTIFICATION_C)]
            for row, i in enumerate(likely):
                threats[i], objectified[i] = float(b_threat[row]), float(c_object[row])
        position = {t: i for i, t in enumerate(unique)}
        for k, text in enumerate(texts):
            i = position[text]
            model_scores[k]["sexist"] = float(p_sexist[i])
            if i in threats:
                model_scores[k]["threats"] = threats[i]
                model_scores[k]["objectification"] = objectified[i]
        return model_scores

    def _combine(self, message_id: str, evidence: _Evidence, model: dict[str, float]) -> Result:
        message, language, hits, found = evidence
        scores = dict.fromkeys(CATEGORIES, 0.0)
        reasons: list[str] = []
        for hit in hits:
            if hit.weight > scores[hit.category]:
                scores[hit.category] = hit.weight
            reasons.append(f"{hit.category}: rule '{hit.rule}' ({hit.lang}) matched "
                           f"\"{hit.words[:80]}\"")  # fmt: skip
        if found:
            severe = {"address", "home_or_school", "phone", "id_number", "coordinates"}
            scores["doxxing"] = 0.95 if any(f.kind in severe for f in found) else 0.75
            reasons += [f"doxxing: {doxxing.KINDS[f.kind]} {f.masked}" for f in found[:5]]
        trusted = language in MODEL_LANGUAGES
        if "sexist" in model:
            sexist = model["sexist"]
            threats = sexist * model.get("threats", 0.0)
            objectified = sexist * model.get("objectification", 0.0)
            note = "" if trusted else f" (not applied: trained on English, this is {language})"
            reasons.append(f"model: sexist {sexist:.2f}, threat {threats:.2f}, "
                           f"sexual objectification {objectified:.2f}{note}")  # fmt: skip
            if trusted:
                scores["sexist_derogation"] = max(scores["sexist_derogation"], sexist)
                scores["threat"] = max(scores["threat"], threats)
                scores["sexual_harassment"] = max(scores["sexual_harassment"], objectified)
        named = sorted((c for c in CATEGORIES if scores[c] >= THRESHOLD),
                       key=lambda c: -SEVERITY[c] * scores[c])  # fmt: skip
        urgency = max((SEVERITY[c] * scores[c] for c in CATEGORIES), default=0.0) * 80
        if scores["threat"] >= THRESHOLD and found:
            urgency += 15
            reasons.append("urgent: a threat together with personal details")
        if scores["threat"] >= THRESHOLD and SOON.search(message.text):
            urgency += 10
            reasons.append("urgent: the threat names a time")
        if WEAPONS.intersection(message.emoji) and (named or message.mentions):
            urgency += 5
            reasons.append("weapon or death emoji")
        return Result(
            id=message_id, language=language,
            scores={c: round(s, 3) for c, s in scores.items()},
            categories=named or ["none"], urgency=min(100, round(urgency)), reasons=reasons,
            model_id=self.model_id, doxxing=found,
            model_scores={k: round(v, 3) for k, v in model.items()},
        )  # fmt: skip


@dataclass(frozen=True)
class Period:
    target: str  # a defender id, or "" for the whole batch
    day: str  # YYYY-MM-DD
    messages: int
    by_category: dict[str, int]
    urgency: int  # the period's urgency: its worst message, raised by volume
    reasons: list[str]
    top: list[str]  # ids of its most urgent messages


def by_period(
    results: Sequence[Result], when: Sequence[datetime | None], targets: Sequence[str]
) -> list[Period]:
    """Per target and day: counts by category and an urgency that grows with volume (a day
    with 200 abusive messages is more urgent than one with 2), most urgent first."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, at in enumerate(when):
        groups[(targets[i], at.date().isoformat() if at else "undated")].append(i)
    out = []
    for (target, day), members in groups.items():
        counts = Counter(c for i in members for c in results[i].categories if c != "none")
        abusive = sum(1 for i in members if results[i].categories != ["none"])
        worst = max(results[i].urgency for i in members)
        volume = min(20, int(10 * np.log10(1 + abusive))) if abusive else 0
        reasons = [f"{abusive} abusive messages of {len(members)}"] if abusive else []
        if counts:
            reasons.append(", ".join(f"{n} {c.replace('_', ' ')}" for c, n in counts.most_common()))
        top = sorted(members, key=lambda i: -results[i].urgency)[:5]
        out.append(Period(target, day, len(members), dict(counts), min(100, worst + volume),
                          reasons, [results[i].id for i in top]))  # fmt: skip
    return sorted(out, key=lambda p: (-p.urgency, p.day))
