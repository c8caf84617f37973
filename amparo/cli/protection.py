"""``amparo cases``, ``amparo risk``, ``amparo checkins`` and ``amparo worker``: protection work."""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from amparo.cli.context import handle_errors, open_registry, vault_option

__all__ = ["cases", "checkins", "risk", "worker"]


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


# -- cases ---------------------------------------------------------------------------------


@click.group()
def cases() -> None:
    """Protection cases: whom a case protects, its officer, priority, plan and urgent actions."""


@cases.command("list")
@vault_option
@handle_errors
def cases_list(vault: Path) -> None:
    """List the cases you are a member of, with their numbers of incidents and people."""
    with open_registry(vault) as registry:
        for summary, incidents, defenders, _ in registry.cases.list(limit=1000):
            case = registry.protection.get(summary.id)
            click.echo(f"{summary.id}  {case.protection_status or '-':10} "
                       f"{case.priority or '-':7} review {case.review_due or '-'}  "
                       f"{incidents} incidents, {defenders} people  "
                       f"{summary.title or ''}")  # fmt: skip


@cases.command("open")
@vault_option
@click.option("--title", help="A title (kept encrypted).")
@handle_errors
def cases_open(vault: Path, title: str | None) -> None:
    """Open a new case; prints its id."""
    with open_registry(vault) as registry:
        click.echo(registry.cases.open(title).id)


@cases.command("show")
@vault_option
@click.argument("case_id")
@handle_errors
def cases_show(vault: Path, case_id: str) -> None:
    """Show a case: people with their risk band, incidents, plan, urgent actions."""
    with open_registry(vault) as registry:
        view = registry.protection.overview(case_id)
        checkins = registry.checkins.status(case_id=case_id)
    _echo_json({
        **view["case"].to_dict(), "officer": view["officer"], "people": view["people"],
        "incidents": view["incidents"], "measures": [m.to_dict() for m in view["measures"]],
        "urgent_actions": [u.to_dict() for u in view["urgent"]],
        "checkins": [s.to_dict() for s in checkins],
    })  # fmt: skip


@cases.command("set")
@vault_option
@click.argument("case_id")
@click.option("--defender", "subject_defender_id", help="The defender or collective protected.")
@click.option("--officer", help="Username of the assigned protection officer.")
@click.option("--priority", type=click.Choice(["urgent", "high", "normal", "low"]))
@click.option("--status", "protection_status",
              type=click.Choice(["intake", "active", "monitoring", "closed"]))  # fmt: skip
@handle_errors
def cases_set(vault: Path, case_id: str, officer: str | None, **fields: Any) -> None:
    """Set a case's protection fields."""
    with open_registry(vault) as registry:
        changes = {k: v for k, v in fields.items() if v is not None}
        if officer:
            changes["officer_id"] = registry.accounts.get_by_username(officer).id
        _echo_json(registry.protection.update(case_id, **changes).to_dict())


@cases.command("add-measure")
@vault_option
@click.argument("case_id")
@click.option("--kind", type=click.Choice(["preventive", "emergency"]), required=True)
@click.option("--description", required=True)
@click.option("--owner", help="Who carries it out.")
@click.option("--due", help="Due date, YYYY-MM-DD.")
@click.option(
    "--priority",
    default="normal",
    show_default=True,
    type=click.Choice(["urgent", "high", "normal", "low"]),
)
@click.option("--driver", help="The risk item it answers (T1..C10).")
@handle_errors
def cases_add_measure(vault: Path, case_id: str, kind: str, description: str,
                      owner: str | None, due: str | None, priority: str,
                      driver: str | None) -> None:  # fmt: skip
    """Add a preventive or emergency measure to a case's protection plan; prints its id."""
    with open_registry(vault) as registry:
        measure = registry.protection.add_measure(
            case_id, kind=kind, description=description, owner=owner, due_on=_date(due),
            priority=priority, driver=driver,
        )  # fmt: skip
    click.echo(measure.id)


@cases.command("update-measure")
@vault_option
@click.argument("measure_id")
@click.option("--status", type=click.Choice(["continuing", "token_action", "pending",
                                             "no_action", "closed"]))  # fmt: skip
@click.option("--outcome")
@click.option("--due")
@click.option("--owner")
@handle_errors
def cases_update_measure(vault: Path, measure_id: str, status: str | None, outcome: str | None,
                         due: str | None, owner: str | None) -> None:  # fmt: skip
    """Change a measure's status, outcome, due date or owner."""
    changes: dict[str, Any] = {k: v for k, v in (("status", status), ("outcome", outcome),
                                                  ("owner", owner)) if v is not None}  # fmt: skip
    if due is not None:
        changes["due_on"] = _date(due)
    with open_registry(vault) as registry:
        _echo_json(registry.protection.update_measure(measure_id, **changes).to_dict())


@cases.command("urgent")
@vault_option
@click.argument("case_id")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["un_appeal", "emergency_grant", "relocation", "legal_aid"]),
)
@click.option("--note")
@handle_errors
def cases_urgent(vault: Path, case_id: str, kind: str, note: str | None) -> None:
    """Open an urgent action with its checklist; prints it."""
    with open_registry(vault) as registry:
        _echo_json(registry.protection.open_urgent(case_id, kind, note).to_dict())


@cases.command("tick")
@vault_option
@click.argument("action_id")
@click.argument("step")
@click.option("--undo", is_flag=True, help="Untick the step.")
@click.option(
    "--close", type=click.Choice(["done", "cancelled"]), help="Then close the urgent action."
)
@handle_errors
def cases_tick(vault: Path, action_id: str, step: str, undo: bool, close: str | None) -> None:
    """Tick a step of an urgent action's checklist."""
    with open_registry(vault) as registry:
        action = registry.protection.tick(action_id, step, done=not undo)
        if close:
            action = registry.protection.close_urgent(action_id, close)
        _echo_json(action.to_dict())


# -- risk ----------------------------------------------------------------------------------


@click.group()
def risk() -> None:
    """Risk assessments (T1-T8, V1-V12, C1-C10): assess, show, history, due, form."""


@risk.command("form")
@click.option("--lang", default="en", show_default=True)
def risk_form(lang: str) -> None:
    """Print the assessment form: every item with its range and help text."""
    from amparo.domain.risk import FACTS, load_items

    for item in load_items():
        click.echo(f"{item.code:4} 0-{item.max}  {item.text('label', lang)}")
        click.echo(f"      {item.text('help', lang)}")
    click.echo("facts: " + ", ".join(FACTS))


@risk.command("assess")
@vault_option
@click.argument("defender_id")
@click.option(
    "--scores",
    "scores_json",
    required=True,
    help='Item scores as JSON, e.g. \'{"T1": 3, ..., "C10": 0}\' (all 30 items).',
)
@click.option(
    "--fact",
    "facts",
    multiple=True,
    help="An override fact (repeatable): death_threat_90d, abduction_attempt_90d, "
    "attempted_killing_90d, credible_death_threat, peer_killed_12m, disappeared.",
)
@click.option(
    "--band",
    type=click.Choice(["low", "medium", "high", "extreme"]),
    help="Set another band than the computed one (needs --reason).",
)
@click.option("--reason", help="Why the band differs from the computed one.")
@click.option("--note")
@handle_errors
def risk_assess(vault: Path, defender_id: str, scores_json: str, facts: tuple[str, ...],
                band: str | None, reason: str | None, note: str | None) -> None:  # fmt: skip
    """Store a new assessment version of a defender; prints the result."""
    scores = json.loads(scores_json)
    if not isinstance(scores, dict):
        raise click.UsageError("--scores takes a JSON object")
    with open_registry(vault) as registry:
        result = registry.risk.assess(defender_id, scores, list(facts), band=band,
                                      band_reason=reason, note=note)  # fmt: skip
    _echo_json(result.to_dict())


@risk.command("show")
@vault_option
@click.argument("defender_id")
@click.option("--version", type=int, help="Default: the latest.")
@handle_errors
def risk_show(vault: Path, defender_id: str, version: int | None) -> None:
    """Show one assessment with its drivers and suggested actions."""
    from amparo.domain.risk import load_items

    texts = {item.code: item for item in load_items()}
    with open_registry(vault) as registry:
        result = registry.risk.show(defender_id, version).to_dict()
    for driver in result["drivers"]:
        driver["action"] = texts[driver["code"]].text("action", "en")
    _echo_json(result)


@risk.command("history")
@vault_option
@click.argument("defender_id")
@handle_errors
def risk_history(vault: Path, defender_id: str) -> None:
    """Every assessment version of a defender, oldest first (the trajectory)."""
    with open_registry(vault) as registry:
        for a in registry.risk.history(defender_id):
            click.echo(f"v{a.version}  {a.created_at:%Y-%m-%d}  index {a.index:.3f}  "
                       f"{a.band:8} (computed {a.computed_band})  review {a.next_review}  "
                       f"by {a.created_by}")  # fmt: skip


@risk.command("due")
@vault_option
@handle_errors
def risk_due(vault: Path) -> None:
    """Defenders whose review date has come or who are flagged for immediate review."""
    with open_registry(vault) as registry:
        for case_id, defender_id, review, flags in registry.risk.due():
            click.echo(f"{defender_id}  case {case_id}  review {review or '-'}  "
                       f"open flags {flags}")  # fmt: skip


# -- check-ins -----------------------------------------------------------------------------


@click.group()
def checkins() -> None:
    """Check-ins for a defender in a high-risk period, and their escalation."""


@checkins.command("schedule")
@vault_option
@click.argument("defender_id")
@click.option("--every", "every_hours", type=float, required=True, help="Hours between check-ins.")
@click.option(
    "--grace",
    default="30,60",
    show_default=True,
    help="Minutes to wait before each step of the chain (comma-separated).",
)
@click.option("--notify-user", "users", multiple=True, help="A username to alert (in order).")
@click.option("--notify-email", "emails", multiple=True, help="An address to alert (in order).")
@click.option("--until", help="End of the high-risk period (ISO date-time, UTC).")
@handle_errors
def checkins_schedule(vault: Path, defender_id: str, every_hours: float, grace: str,
                      users: tuple[str, ...], emails: tuple[str, ...],
                      until: str | None) -> None:  # fmt: skip
    """Start check-ins; prints her one-time check-in link. The chain alerts the users, then the
    addresses (default: the case's assigned officer)."""
    from amparo.clock import utc

    try:
        grace_minutes = [int(g) for g in grace.split(",")]
    except ValueError:
        raise click.BadParameter("--grace takes whole minutes, e.g. 30,60") from None
    with open_registry(vault) as registry:
        chain = [{"user": registry.accounts.get_by_username(u).id} for u in users]
        chain += [{"email": e} for e in emails]
        ends = utc(datetime.fromisoformat(until)) if until else None
        schedule, token = registry.checkins.schedule(
            defender_id, every_hours=every_hours, chain=chain, grace_minutes=grace_minutes,
            ends_at=ends,
        )  # fmt: skip
        click.echo(
            f"schedule {schedule.id}: next check-in due {schedule.next_due_at:%Y-%m-%d %H:%M} UTC"
        )
        click.echo(f"her one-time link: {registry.checkins.link_for(token)}")
        click.echo(f"(or the code {token} on {registry.settings.public_url}/checkin)")


@checkins.command("record")
@vault_option
@click.argument("schedule_id")
@click.option("--note")
@handle_errors
def checkins_record(vault: Path, schedule_id: str, note: str | None) -> None:
    """Record a check-in she made another way (phone, in person); stops any escalation."""
    with open_registry(vault) as registry:
        schedule = registry.checkins.record(schedule_id, note)
    click.echo(f"recorded; next check-in due {schedule.next_due_at:%Y-%m-%d %H:%M} UTC")


@checkins.command("link")
@vault_option
@click.argument("schedule_id")
@handle_errors
def checkins_link(vault: Path, schedule_id: str) -> None:
    """Issue a new one-time link (the old one stops working)."""
    with open_registry(vault) as registry:
        click.echo(registry.checkins.link_for(registry.checkins.new_link(schedule_id)))


@checkins.command("stop")
@vault_option
@click.argument("schedule_id")
@handle_errors
def checkins_stop(vault: Path, schedule_id: str) -> None:
    """Stop a schedule: no more escalation, her link stops working."""
    with open_registry(vault) as registry:
        registry.checkins.stop(schedule_id)
    click.echo("stopped")


@checkins.command("status")
@vault_option
@click.option("--defender", "defender_id")
@click.option("--all", "show_all", is_flag=True, help="Also stopped and ended schedules.")
@handle_errors
def checkins_status(vault: Path, defender_id: str | None, show_all: bool) -> None:
    """Schedules with their next due time, escalation step and last check-in."""
    with open_registry(vault) as registry:
        now = registry.clock.now()
        for s in registry.checkins.status(defender_id=defender_id, active_only=not show_all):
            late = "OVERDUE " if s.overdue(now) else ""
            last = "-" if s.last_checkin_at is None else f"{s.last_checkin_at:%Y-%m-%d %H:%M}"
            click.echo(f"{s.id}  {s.status:7} {late}due {s.next_due_at:%Y-%m-%d %H:%M} UTC  "
                       f"step {s.escalation_step}/{len(s.chain)}  last {last}  "
                       f"defender {s.defender_id}")  # fmt: skip


# -- worker --------------------------------------------------------------------------------


def _log_to_stderr() -> None:
    """What the team worker does, a line each (sends, escalations, flags; procrastinate's own
    warnings and errors), with the time: a service manager's journal keeps it."""
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name, level in (("amparo", logging.INFO), ("procrastinate", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(level)


@click.command()
@vault_option
@click.option(
    "--interval",
    type=float,
    default=None,
    help="Seconds between rounds (SQLite loop, default 15) or between the periodic sweeps "
    "(PostgreSQL, default 60; a divisor of 60 seconds or of 60 minutes).",
)
@click.option(
    "--rounds", type=int, default=0, help="SQLite: stop after this many rounds (0: run on)."
)
@click.option(
    "--once",
    is_flag=True,
    help="Do what is due now, then stop (PostgreSQL: when the queue has nothing left to run).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="PostgreSQL: jobs (sends, sweeps) this worker runs at the same time.",
)
@click.option(
    "--retry-after",
    type=click.FloatRange(0.1, 21600),
    default=60.0,
    show_default=True,
    help="Seconds before a failed notification is tried again; doubles with each attempt, "
    "at most 6 hours.",
)
@click.option(
    "--apply-schema",
    is_flag=True,
    help="PostgreSQL: create procrastinate's tables (schema 'procrastinate') if missing, "
    "then exit. A worker also does this on its first start.",
)
@handle_errors
def worker(
    vault: Path, interval: float | None, rounds: int, once: bool, concurrency: int,
    retry_after: float, apply_schema: bool,
) -> None:  # fmt: skip
    """Run background work: check-in escalation, notifications, review flags, periodic jobs.

    The periodic jobs are the built-in ones and those registered in amparo.jobs.PERIODIC.

    \b
    PostgreSQL (team deployments): runs procrastinate's worker. Start as many as you like,
    on any machines: each periodic tick runs once, each notification is one job sent once
    (a lock per message, the outbox claim), failed sends are retried with back-off.
    SIGTERM or SIGINT stops it after the jobs it is running (at most 60 s).
    SQLite: procrastinate has no SQLite connector; this runs the in-process loop that
    `amparo serve` also runs (run one of them, not both).
    """
    import signal
    import threading
    from datetime import timedelta

    with open_registry(vault) as registry:
        from amparo.services.backups import register_scheduled_backup

        register_scheduled_backup(registry.settings)  # a [backup] table: a periodic job
        backoff = timedelta(seconds=retry_after)
        if registry.store.dialect == "postgresql":
            from amparo import jobs

            if apply_schema:
                click.echo(f"procrastinate schema {jobs.ensure_schema(registry.store)}")
                return
            if rounds:
                raise click.UsageError("--rounds is for the SQLite loop; use --once")
            every = jobs.DEFAULT_INTERVAL_S if once or interval is None else interval
            jobs.cron_every(every)  # a bad --interval fails before anything starts
            _log_to_stderr()
            click.echo(f"worker started (procrastinate, concurrency {concurrency})", err=True)
            jobs.run(registry, concurrency=concurrency, interval_s=every, retry_after=backoff,
                     once=once)  # fmt: skip
            click.echo("worker stopped", err=True)
            return
        if apply_schema:
            raise click.UsageError("--apply-schema: the job queue needs a PostgreSQL vault")
        from amparo.worker import Worker

        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        w = Worker(registry, retry_after=backoff)
        click.echo(f"worker {w.name} started", err=True)
        done = 0
        if once:
            rounds = 1
        while not stop.is_set():
            r = w.run_once()
            done += 1
            if r.queued or r.sent or r.failed or r.flagged or r.periodic:
                click.echo(f"{time.strftime('%H:%M:%S')} queued {r.queued} sent {r.sent} "
                           f"failed {r.failed} flagged {r.flagged}", err=True)  # fmt: skip
            if rounds and done >= rounds:
                break
            stop.wait(15.0 if interval is None else interval)
