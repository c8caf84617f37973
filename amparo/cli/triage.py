"""``amparo triage``: read a batch of messages, rank the abuse in it, find campaigns; keep a
batch in the vault for a defender, review it and accept what matters as incidents; train and
evaluate the models. ``run`` without ``--defender`` and ``campaigns`` need no vault: a quick
look at a file."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from amparo.cli.context import handle_errors, open_registry, vault_option
from amparo.cli.output import render
from amparo.errors import ValidationError

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
@click.option("--no-screen", "no_screen", is_flag=True,
              help="Let task A's model read every message, not only those the linear screen "
              "is unsure of (about a sixth slower; on EDOS it flags 0.5 % more of the "
              "sexist posts).")  # fmt: skip
@click.option(
    "--defender",
    "defender_id",
    metavar="ID",
    help="Keep the batch in the vault for this defender (prints the batch id).",
)
@click.option("--vault", "vault", envvar="AMPARO_VAULT",
              type=click.Path(file_okay=False, path_type=Path),
              help="Vault directory, with --defender (or set AMPARO_VAULT).")  # fmt: skip
@handle_errors
def run_command(
    file: Path, input_format: str | None, pairs: tuple[str, ...], fmt: str, limit: int | None,
    rules_only: bool, no_screen: bool, defender_id: str | None, vault: Path | None,
) -> None:  # fmt: skip
    """Rank the messages of FILE (CSV, JSON or JSON Lines) by urgency, with reasons.

    With --defender the batch is analysed, stored (encrypted, in her case) and its id printed:
    review it with 'triage show', in the browser at /triage, or accept messages as incidents.
    """
    if defender_id is not None:
        _store(file, input_format, pairs, rules_only, defender_id, vault, not no_screen)
        return
    from amparo.triage.analyse import Triage
    from amparo.triage.model import MODELS

    batch = _read(file, input_format, pairs)
    engine = Triage.load(None if rules_only else MODELS)
    if no_screen:
        engine.screen = None
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
@click.option("--task", type=click.Choice(["A", "B", "C", "combine", "screen", "all"]),
              default="all", show_default=True,
              help="combine: the linear model and the B/C combination, chosen on dev (needs "
              "scikit-learn and the B and C models); screen: the linear first reading before "
              "A, its threshold chosen on dev (needs scikit-learn and the A model).")  # fmt: skip
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
    epoch; test is never read), then fit the linear model B and C mix in and choose the
    combination on dev, then the linear screen before A and its threshold, also on dev.
    Needs PyTorch and scikit-learn: see docs/triage.md."""
    from amparo.triage.edos import Edos, EdosError
    from amparo.triage.model import MODELS, ModelMissing
    from amparo.triage.training import (
        TrainingUnavailable,
        TrainSettings,
        train,
        train_linear,
        train_screen,
    )

    try:
        edos = Edos.load(data)
    except (EdosError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(3) from None
    target = out or MODELS
    log = functools.partial(click.echo, err=True)

    def unless_unavailable(step: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return step()
        except (TrainingUnavailable, ModelMissing) as exc:  # no PyTorch, or no A model yet
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(1) from None

    for name in ("A", "B", "C") if task == "all" else (task,) if task in ("A", "B", "C") else ():
        settings = TrainSettings(
            epochs=epochs or {"A": 3, "B": 5, "C": 10}[name],
            weight_power=weight_power
            if weight_power is not None
            else (1.0 if name == "C" else 0.5),
        )
        card = unless_unavailable(functools.partial(train, edos, name, target / name.lower(),
                                                    settings, log=log))  # fmt: skip
        click.echo(f"task {name}: {card['model_id']}, dev macro-F1 {card['dev_macro_f1']}")
    if task in ("combine", "all"):
        spec = unless_unavailable(functools.partial(train_linear, edos, target, log=log))
        click.echo(f"linear and combination: {spec['linear']['model_id']}, dev macro-F1 "
                   f"B {spec['dev_macro_f1']['B']}, C {spec['dev_macro_f1']['C']}")  # fmt: skip
    if task in ("screen", "all"):
        card = unless_unavailable(functools.partial(train_screen, edos, target, log=log))
        click.echo(f"screen: {card['model_id']}, threshold {card['threshold']}, spares "
                   f"{card['dev']['spared']:.1%} of dev posts, dev macro-F1 of A "
                   f"{card['dev']['macro_f1_with_screen']}")  # fmt: skip


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
    import numpy as np

    from amparo.triage.analyse import Triage
    from amparo.triage.edos import Edos, EdosError, macro_f1
    from amparo.triage.model import MODELS, ModelMissing

    folder = models or MODELS
    try:
        edos = Edos.load(data)
        test = edos.test()
        engine = Triage.load(folder)
        if engine.sexist is None or engine.category is None or engine.vector is None:
            raise ModelMissing(f"{folder}: the A, B and C models are needed")
    except (EdosError, ModelMissing, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(3) from None
    classifiers = {"A": engine.sexist, "B": engine.category, "C": engine.vector}
    sexist = [p for p in test if p.sexist]
    report = functools.partial(_progress("evaluate task A"), "test")
    texts = [p.text for p in test]
    pa = engine.sexist_probabilities(engine.first_reading(texts), len(texts), progress=report)
    pa = np.stack([pa if label == "sexist" else 1 - pa for label in engine.sexist.labels],
                  axis=1)  # fmt: skip
    pb, pc = engine.kinds([p.text for p in sexist], engine.encode([p.text for p in sexist]))
    scores: dict[str, Any] = {}
    for task, probs in (("A", pa), ("B", pb), ("C", pc)):
        posts = test if task == "A" else sexist
        labels = classifiers[task].labels
        predicted = [labels[i] for i in probs.argmax(axis=1)]
        scores[task] = round(macro_f1([p.label(task) for p in posts], predicted), 4)
    model_id = engine.model_id
    if as_json:
        click.echo(json.dumps({**scores, "model": model_id}))
        return
    click.echo(f"EDOS test split, macro-F1 (model {model_id})")
    rows = [{"system": "this model", **scores}] + [
        {"system": name, **values} for name, values in ANCHORS.items()
    ]
    click.echo(render(rows, "table", ["system", "A", "B", "C"]), nl=False)


# -- batches kept in the vault ----------------------------------------------------------------

MESSAGE_COLUMNS = ["urgency", "id", "status", "lang", "categories", "author", "why", "text"]
CSV_COLUMNS = ["id", "row", "source_id", "urgency", "status", "language", "categories",
               "model_categories", "author", "posted_at", "url", "platform", "reasons",
               "doxxing", "campaign_id", "incident_id", "model", "text_sha256", "text"]  # fmt: skip
BATCH_COLUMNS = ["id", "created_at", "defender_id", "defender_name", "source_name", "messages",
                 "abusive", "unreviewed", "campaigns", "skipped"]  # fmt: skip
CATEGORY = click.Choice(["threat", "sexual_harassment", "sexist_derogation", "smear", "doxxing",
                         "none"])  # fmt: skip


def _store(
    file: Path, input_format: str | None, pairs: Sequence[str], rules_only: bool,
    defender_id: str, vault: Path | None, screen: bool = True,
) -> None:  # fmt: skip
    if vault is None:
        raise click.UsageError("--defender needs the vault: give --vault or set AMPARO_VAULT")
    with open_registry(vault) as registry:
        stored = registry.triage.ingest(
            registry.defenders.resolve(defender_id), file, name=file.name, fmt=input_format,
            mapping=_mapping(pairs), rules_only=rules_only, screen=screen,
            progress=_progress("triage"),
        )  # fmt: skip
    for skipped in stored.skipped[:50]:
        click.echo(f"skipped {skipped}", err=True)
    if len(stored.skipped) > 50:
        click.echo(f"... and {len(stored.skipped) - 50} more skipped rows", err=True)
    b = stored.batch
    click.echo(f"{b.messages:,} messages stored ({b.abusive:,} abusive, {b.campaigns:,} "
               f"campaigns), {b.skipped:,} rows skipped; model {b.model_id}", err=True)  # fmt: skip
    click.echo(b.id)


@triage.command("batches")
@vault_option
@click.option("--defender", "defender_id", metavar="ID", help="Only this defender's batches.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)  # fmt: skip
@handle_errors
def batches_command(vault: Path, defender_id: str | None, fmt: str) -> None:
    """The batches kept in the vault that you may see, newest first."""
    with open_registry(vault) as registry:
        wanted = registry.defenders.resolve(defender_id) if defender_id else None
        rows = [b.to_dict() for b in registry.triage.batches(defender_id=wanted)]
    click.echo(render(rows, fmt, BATCH_COLUMNS), nl=False)


@triage.command("show")
@vault_option
@click.argument("batch")
@output_format
@click.option("--category", type=CATEGORY, help="Only messages of this category.")
@click.option("--status", type=click.Choice(["new", "relabelled", "dismissed", "accepted"]))
@click.option("--min-urgency", type=click.IntRange(0, 100), help="Only this urgent or more.")
@click.option("--limit", type=click.IntRange(1), help="Only the N most urgent.")
@click.option("--campaigns", "show_campaigns", is_flag=True,
              help="List the batch's campaigns instead of its messages.")  # fmt: skip
@handle_errors
def show_command(
    vault: Path, batch: str, fmt: str, category: str | None, status: str | None,
    min_urgency: int | None, limit: int | None, show_campaigns: bool,
) -> None:  # fmt: skip
    """A stored batch's messages, most urgent first, with categories and reasons."""
    from amparo.services.triage import MessageFilter

    with open_registry(vault) as registry:
        batch_id = registry.triage.resolve(batch)
        if show_campaigns:
            found = [c.to_dict() for c in registry.triage.campaigns(batch_id)]
        else:
            query = MessageFilter(category=category, status=status, min_urgency=min_urgency,
                                  limit=limit)  # fmt: skip
            messages = [m.to_dict() for m in registry.triage.messages(batch_id, query)]
    if show_campaigns:
        _print_campaigns(found, fmt)
        return
    if fmt == "jsonl":
        for row in messages:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if fmt == "csv":
        flat = [{**m, "categories": " ".join(m["categories"]),
                 "model_categories": " ".join(m["model_categories"]),
                 "reasons": " | ".join(m["reasons"]), "model": m["model"],
                 "doxxing": " ".join(f"{d['kind']}:{d['masked']}" for d in m["doxxing"])}
                for m in messages]  # fmt: skip
        click.echo(render(flat, "csv", CSV_COLUMNS), nl=False)
        return
    table = [{"urgency": m["urgency"], "id": m["id"], "status": m["status"],
              "lang": m["language"], "categories": ",".join(m["categories"]),
              "author": m["author"], "why": m["reasons"][0] if m["reasons"] else "",
              "text": m["text"]} for m in messages]  # fmt: skip
    click.echo(render(table, "table", MESSAGE_COLUMNS), nl=False)


def _print_campaigns(found: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "jsonl":
        for row in found:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    flat = [{**c, "reasons": " | ".join(c["reasons"]), "members": " ".join(c["members"]),
             "authors": " ".join(c["authors"])} for c in found]  # fmt: skip
    columns = ["id", "rank", "score", "messages", "accounts", "start", "end", "status",
               "incident_id", "reasons", "representative"]  # fmt: skip
    if fmt == "csv":
        columns += ["members", "authors"]
    click.echo(render(flat, fmt, columns), nl=False)


@triage.command("relabel")
@vault_option
@click.argument("message")
@click.option("--as", "categories", type=CATEGORY, multiple=True, required=True,
              help="A category it really is; repeat for several ('none': none).")  # fmt: skip
@handle_errors
def relabel_command(vault: Path, message: str, categories: tuple[str, ...]) -> None:
    """Set the categories you judged right for MESSAGE (kept for retraining)."""
    with open_registry(vault) as registry:
        done = registry.triage.relabel(registry.triage.resolve_message(message), categories)
    click.echo(f"{done.id} {','.join(done.categories)}")


@triage.command("dismiss")
@vault_option
@click.argument("message")
@click.option("--reason", required=True, help="Why it needs no action (stored encrypted).")
@handle_errors
def dismiss_command(vault: Path, message: str, reason: str) -> None:
    """Dismiss MESSAGE: it needs no action; the reason is kept."""
    with open_registry(vault) as registry:
        done = registry.triage.dismiss(registry.triage.resolve_message(message), reason)
    click.echo(f"{done.id} {done.status}")


@triage.command("accept")
@vault_option
@click.argument("message", required=False)
@click.option("--campaign", "campaign", metavar="ID", help="Accept a whole campaign instead.")
@click.option("--country", help="The incident's country when her profile names none.")
@handle_errors
def accept_command(
    vault: Path, message: str | None, campaign: str | None, country: str | None
) -> None:
    """Make MESSAGE (or a campaign) an incident: the defender as victim, the messages as
    evidence captures, and the defender flagged for risk review. Prints the incident id;
    accepting again changes nothing."""
    if (message is None) == (campaign is None):
        raise ValidationError("message", "give a MESSAGE or --campaign ID (one of them)")
    with open_registry(vault) as registry:
        if campaign is not None:
            result = registry.triage.accept_campaign(
                registry.triage.resolve_campaign(campaign), country=country
            )
        else:
            assert message is not None
            result = registry.triage.accept(registry.triage.resolve_message(message),
                                            country=country)  # fmt: skip
    if result.created:
        click.echo(f"{result.messages} message(s) accepted, {len(result.evidence)} evidence "
                   "item(s); the defender is flagged for risk review", err=True)  # fmt: skip
    else:
        click.echo("already accepted: nothing new was made", err=True)
    click.echo(result.incident_id)


@triage.command("export-relabels")
@vault_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")  # fmt: skip
@handle_errors
def export_relabels_command(vault: Path, out: Path | None) -> None:
    """The messages people relabelled, as JSON Lines (text, categories judged right, the
    model's categories): training examples for 'amparo triage train'. Holds message text."""
    with open_registry(vault) as registry:
        lines = [json.dumps(row, ensure_ascii=False) for row in registry.triage.export_relabels()]
    text = "".join(line + "\n" for line in lines)
    if out is None:
        click.echo(text, nl=False)
        return
    import os

    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    click.echo(f"{len(lines)} relabelled messages written to {out}", err=True)
