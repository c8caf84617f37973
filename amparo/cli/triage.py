"""``amparo triage``: read a batch of messages, rank the abuse in it, find campaigns; train and
evaluate the models. ``run`` and ``campaigns`` need no vault: a quick look at a file."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from amparo.cli.context import handle_errors
from amparo.cli.output import render

__all__ = ["triage"]

DEFAULT_EDOS = Path("../shared/data/edos/edos_labelled_aggregated.csv")
# Published anchors on the EDOS test split (macro-F1), for the evaluation's report.
ANCHORS = {
    "best SemEval team": {"A": 0.8746, "B": 0.7326, "C": 0.5606},
    "10th place": {"A": 0.8613, "B": 0.6755, "C": 0.4957},
    "TF-IDF + logistic regression": {"A": 0.774, "B": 0.519, "C": 0.308},
}


def _progress(label: str) -> Callable[[str, int, int], None]:
    def report(stage: str, done: int, total: int) -> None:
        if sys.stderr.isatty() or done == total:
            click.echo(f"\r{label}: {stage} {done:,}/{total:,}", err=True,
                       nl=done == total)  # fmt: skip

    return report


def _mapping(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise click.BadParameter(f"'{pair}' is not FIELD=COLUMN", param_hint="--map")
        out[field.strip()] = column.strip()
    return out


def _read(path: Path, fmt: str | None, pairs: Sequence[str]) -> Any:
    from amparo.triage.ingest import IngestError, read_messages

    try:
        result = read_messages(
            path, fmt=fmt, mapping=_mapping(pairs),
            progress=lambda n: click.echo(f"read {n:,} rows", err=True),
        )  # fmt: skip
    except IngestError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(3) from None
    except OSError as exc:
        click.echo(f"error: {path}: {exc.strerror}", err=True)
        raise SystemExit(3) from None
    for skipped in result.skipped[:50]:
        click.echo(f"skipped {skipped}", err=True)
    if len(result.skipped) > 50:
        click.echo(f"... and {len(result.skipped) - 50} more skipped rows", err=True)
    click.echo(f"{len(result.messages):,} messages read, {len(result.skipped):,} rows skipped",
               err=True)  # fmt: skip
    return result


input_format = click.option("--input-format", "input_format",
                            type=click.Choice(["csv", "json", "jsonl"]),
                            help="Layout of FILE (default: from its name).")  # fmt: skip
column_map = click.option("--map", "pairs", multiple=True, metavar="FIELD=COLUMN",
                          help="The file's column for a field (id, author, created_at, text, "
                          "url, reply_to, platform); repeat for several.")  # fmt: skip
output_format = click.option("--format", "fmt", type=click.Choice(["table", "jsonl", "csv"]),
                             default="table", show_default=True)  # fmt: skip


@click.group()
def triage() -> None:
    """Online-abuse triage: rank threats, harassment, smears and doxxing; find campaigns."""


@triage.command("run")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@input_format
@column_map
@output_format
@click.option("--limit", type=click.IntRange(1), help="Show only the N most urgent messages.")
@click.option("--rules-only", is_flag=True, help="Skip the models (faster, less thorough).")
@handle_errors
def run_command(
    file: Path, input_format: str | None, pairs: tuple[str, ...], fmt: str, limit: int | None,
    rules_only: bool,
) -> None:  # fmt: skip
    """Rank the messages of FILE (CSV, JSON or JSON Lines) by urgency, with reasons."""
    from amparo.triage.analyse import Triage
    from amparo.triage.model import MODELS

    batch = _read(file, input_format, pairs)
    engine = Triage.load(None if rules_only else MODELS)
    if engine.sexist is None and not rules_only:
        click.echo("note: no trained models in this installation: rules and doxxing only",
                   err=True)  # fmt: skip
    messages = batch.messages
    results = engine.analyse([m.id for m in messages], [m.text for m in messages],
                             progress=_progress("triage"))  # fmt: skip
    ranked = sorted(zip(messages, results, strict=True), key=lambda mr: -mr[1].urgency)
    if limit is not None:
        ranked = ranked[:limit]
    rows = [
        {
            "id": m.id, "row": m.row, "author": m.author,
            "created_at": m.created_at.isoformat() if m.created_at else None,
            "language": r.language, "urgency": r.urgency, "categories": r.categories,
            "scores": r.scores, "reasons": r.reasons, "model": r.model_id,
            "doxxing": [{"kind": f.kind, "masked": f.masked} for f in r.doxxing],
            "text": m.text,
        }
        for m, r in ranked
    ]  # fmt: skip
    if fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if fmt == "csv":
        flat = [
            {**row, "categories": " ".join(row["categories"]),
             "scores": json.dumps(row["scores"]), "reasons": " | ".join(row["reasons"]),
             "doxxing": " ".join(d["kind"] for d in row["doxxing"])}
            for row in rows
        ]  # fmt: skip
        click.echo(render(flat, "csv", ["id", "row", "author", "created_at", "language",
                                        "urgency", "categories", "scores", "reasons",
                                        "doxxing", "model", "text"]), nl=False)  # fmt: skip
        return
    table = [{"urgency": row["urgency"], "id": row["id"], "lang": row["language"],
              "categories": ",".join(row["categories"]),
              "why": row["reasons"][0] if row["reasons"] else "", "text": row["text"]}
             for row in rows]  # fmt: skip
    click.echo(render(table, "table", ["urgency", "id", "lang", "categories", "why", "text"]),
               nl=False)  # fmt: skip


@triage.command("campaigns")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@input_format
@column_map
@output_format
@click.option("--window-hours", type=click.FloatRange(0.1, 24 * 365), default=72,
              show_default=True, help="Messages further apart are never linked.")  # fmt: skip
@click.option("--min-accounts", type=click.IntRange(2), default=3, show_default=True,
              help="Distinct accounts for a cluster to count as a campaign.")  # fmt: skip
@handle_errors
def campaigns_command(
    file: Path, input_format: str | None, pairs: tuple[str, ...], fmt: str,
    window_hours: float, min_accounts: int,
) -> None:  # fmt: skip
    """Find coordinated campaigns in FILE: near-copies, shared links and hashtags, bursts."""
    from datetime import UTC, datetime, timedelta

    from amparo.triage.campaigns import Post, Settings, detect

    batch = _read(file, input_format, pairs)
    undated = sum(1 for m in batch.messages if m.created_at is None)
    if undated:
        click.echo(f"note: {undated:,} messages without created_at are taken as posted at "
                   "the same moment", err=True)  # fmt: skip
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    posts = [Post(m.id, m.author or f"unknown-{m.row}", m.created_at or epoch, m.text)
             for m in batch.messages]  # fmt: skip
    settings = Settings(window=timedelta(hours=window_hours), min_authors=min_accounts)
    found = detect(posts, settings, progress=_progress("campaigns"))
    rows: list[dict[str, Any]] = [
        {"campaign": n, "score": c.score, "messages": len(c.members), "accounts": len(c.authors),
         "start": c.start.isoformat(), "end": c.end.isoformat(), "similarity": c.similarity,
         "reasons": c.reasons, "representative": c.representative, "members": c.members,
         "authors": c.authors}
        for n, c in enumerate(found, start=1)
    ]  # fmt: skip
    if fmt == "jsonl":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    flat = [{**row, "reasons": " | ".join(row["reasons"]), "members": " ".join(row["members"]),
             "authors": " ".join(row["authors"])} for row in rows]  # fmt: skip
    columns = ["campaign", "score", "messages", "accounts", "start", "end", "reasons",
               "representative"]  # fmt: skip
    if fmt == "csv":
        columns += ["members", "authors"]
    click.echo(render(flat, fmt, columns), nl=False)


@triage.command("train")
@click.option("--data", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=DEFAULT_EDOS, show_default=True, help="EDOS labelled CSV.")  # fmt: skip
@click.option("--task", type=click.Choice(["A", "B", "C", "all"]), default="all",
              show_default=True)  # fmt: skip
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the models go (default: the package's own models folder).",
)
@click.option("--epochs", type=click.IntRange(1, 30), help="Default: 3 for A, 5 for B, 10 for C.")
@click.option("--weight-power", type=click.FloatRange(0, 2),
              help="Class weights (n / (k * count)) ** POWER; default 0.5, 1.0 for C.")  # fmt: skip
@handle_errors
def train_command(
    data: Path, task: str, out: Path | None, epochs: int | None, weight_power: float | None
) -> None:
    """Fine-tune, export and quantise the triage models on EDOS (train split; dev chooses the
    epoch; test is never read). Needs PyTorch: see docs/triage.md."""
    from amparo.triage.edos import Edos, EdosError
    from amparo.triage.model import MODELS
    from amparo.triage.training import TrainingUnavailable, TrainSettings, train

    try:
        edos = Edos.load(data)
    except (EdosError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(3) from None
    target = out or MODELS
    for name in ("A", "B", "C") if task == "all" else (task,):
        settings = TrainSettings(
            epochs=epochs or {"A": 3, "B": 5, "C": 10}[name],
            weight_power=weight_power
            if weight_power is not None
            else (1.0 if name == "C" else 0.5),
        )
        try:
            card = train(edos, name, target / name.lower(), settings,
                         log=lambda line: click.echo(line, err=True))  # fmt: skip
        except TrainingUnavailable as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(1) from None
        click.echo(f"task {name}: {card['model_id']}, dev macro-F1 {card['dev_macro_f1']}")


@triage.command("evaluate")
@click.option("--data", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=DEFAULT_EDOS, show_default=True, help="EDOS labelled CSV.")  # fmt: skip
@click.option("--models", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Models folder (default: the shipped models).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="One JSON object: A, B, C and model.")
@handle_errors
def evaluate_command(data: Path, models: Path | None, as_json: bool) -> None:
    """Macro-F1 of the models on the EDOS test split, tasks A, B and C, beside the published
    anchors."""
    from amparo.triage.edos import Edos, EdosError, macro_f1
    from amparo.triage.model import MODELS, Classifier, ModelMissing

    try:
        edos = Edos.load(data)
        test = edos.test()
        classifiers = {t: Classifier.load((models or MODELS) / t.lower()) for t in "ABC"}
    except (EdosError, ModelMissing, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(3) from None
    from amparo.triage.hierarchy import Combination

    scores: dict[str, Any] = {}
    probabilities = {}
    for task, classifier in classifiers.items():
        posts = [p for p in test if task == "A" or p.sexist]
        report = functools.partial(_progress(f"evaluate task {task}"), "test")
        probabilities[task] = classifier.probabilities([p.text for p in posts], progress=report)
    combination = Combination.load((models or MODELS) / "combine.json")
    pb, pc = combination.apply(probabilities["B"], probabilities["C"],
                               classifiers["B"].labels, classifiers["C"].labels)  # fmt: skip
    for task, probs in (("A", probabilities["A"]), ("B", pb), ("C", pc)):
        posts = [p for p in test if task == "A" or p.sexist]
        labels = classifiers[task].labels
        predicted = [labels[i] for i in probs.argmax(axis=1)]
        scores[task] = round(macro_f1([p.label(task) for p in posts], predicted), 4)
    model_id = "+".join(c.model_id for c in classifiers.values())
    if as_json:
        click.echo(json.dumps({**scores, "model": model_id}))
        return
    click.echo(f"EDOS test split, macro-F1 (model {model_id})")
    rows = [{"system": "this model", **scores}] + [
        {"system": name, **values} for name, values in ANCHORS.items()
    ]
    click.echo(render(rows, "table", ["system", "A", "B", "C"]), nl=False)
