"""``amparo stats``: counts of acts by dimensions, trends, escalation patterns, public tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from amparo.cli.context import handle_errors, open_registry
from amparo.cli.output import FORMATS, render

__all__ = ["stats"]

DIMENSION_HELP = (
    "act_type, country, region, year, quarter, month, gender_identity, defender_kind, sector, "
    "perpetrator_type, modality, gender_specific, gender_feature, target_relation"
)


def _filter_options(fn: Any) -> Any:
    """The incident list's filters (amparo incidents list), applied to the acts counted."""
    options = [
        click.option("--country", help="ISO 3166 alpha-2 code, e.g. CO."),
        click.option("--region", help="Region as recorded."),
        click.option("--act-type", help="Only acts of this type (Amparo code, e.g. A09)."),
        click.option("--year", type=int, help="Incidents that started in this year."),
        click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]),
                     help="Incidents that started on or after (YYYY-MM-DD)."),
        click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]),
                     help="Incidents that started on or before (YYYY-MM-DD)."),
        click.option("--gender-identity", help="Victims of this gender identity, e.g. woman."),
        click.option("--sector", help="Victims working in this sector, e.g. land."),
        click.option("--perpetrator-type", help="Acts involving this perpetrator type."),
        click.option("--modality", help="in_person, online or both."),
        click.option("--gender-feature", help="Gender-lens feature code, e.g. rape_threat."),
        click.option("--gender-specific", help="yes, no or unknown."),
        click.option("--case", "case_id", help="Only this case."),
        click.option("--defender", "defender_id", help="Only acts against this defender."),
        click.option("--exclude-confidential", is_flag=True,
                     help="Leave out incidents marked confidential (counted by default)."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                     show_default=True),
        click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write to this file instead of standard output."),
    ]  # fmt: skip
    for option in reversed(options):
        fn = option(fn)
    return fn


def _filter(kw: dict[str, Any]) -> Any:
    from amparo.services.incidents import IncidentFilter

    for key in ("date_from", "date_to"):
        if kw.get(key) is not None:
            kw[key] = kw[key].date()
    return IncidentFilter(**kw)


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)


# Optional here so that both ``amparo stats --vault V trend`` and ``amparo stats trend --vault V``
# work; a command that needs the vault says so when it has none.
_vault = click.option(
    "--vault", "vault", envvar="AMPARO_VAULT",
    type=click.Path(file_okay=False, path_type=Path),
    help="Vault directory (or set AMPARO_VAULT).",
)  # fmt: skip


def _vault_of(ctx: click.Context, vault: Path | None) -> Path:
    chosen = vault or (ctx.obj or {}).get("vault")
    if chosen is None:
        raise click.UsageError("give --vault or set AMPARO_VAULT")
    return Path(chosen)


def _label(value: Any) -> Any:
    return "(none)" if value is None else value


@click.group(invoke_without_command=True)
@_vault
@click.option("--by", "by", multiple=True, help=f"A dimension, repeatable: {DIMENSION_HELP}.")
@click.option("--crosswalk", default="amparo", show_default=True,
              help="Act types as: amparo, front_line_defenders, bhrrc, im_defensoras, "
              "sdg_16_10_1 or huridocs.")  # fmt: skip
@click.option("--public", is_flag=True,
              help="A table safe to publish: small counts and their complements suppressed "
              "(audited as an export).")  # fmt: skip
@click.option(
    "--k",
    type=int,
    default=5,
    show_default=True,
    help="With --public: the smallest count published (besides 0).",
)
@click.option(
    "--epsilon", type=float, help="With --public: add Laplace noise with this privacy budget."
)
@click.option("--seed", type=int, help="With --epsilon: seed the noise (reproducible runs).")
@_filter_options
@click.pass_context
@handle_errors
def stats(
    ctx: click.Context, /, vault: Path | None, by: tuple[str, ...], crosswalk: str, public: bool,
    k: int,
    epsilon: float | None, seed: int | None, exclude_confidential: bool, fmt: str,
    out: Path | None, **filters: Any,
) -> None:  # fmt: skip
    """Count acts by dimensions (amparo stats --by country --by act_type).

    Counts only the cases you may read (analysts: the whole registry, small counts
    suppressed). With --public the table is protected for publication: no cell below --k,
    complementary suppression so hidden cells cannot be worked out from the totals, optional
    noise (docs/analytics.md).
    """
    ctx.ensure_object(dict)
    ctx.obj.update(vault=vault)
    if ctx.invoked_subcommand is not None:
        return
    from amparo.analytics.aggregates import aggregate
    from amparo.analytics.disclosure import publish

    if not public and (epsilon is not None or seed is not None):
        raise click.UsageError("--epsilon and --seed go with --public")
    q = _filter(filters)
    with open_registry(_vault_of(ctx, vault)) as registry:
        if public:
            table = publish(registry, list(by), q, crosswalk, k=k, epsilon=epsilon, seed=seed,
                            include_confidential=not exclude_confidential)  # fmt: skip
        else:
            table = aggregate(registry, list(by), q, crosswalk,
                              include_confidential=not exclude_confidential)  # fmt: skip
    if fmt == "json":
        _emit(json.dumps(table.to_dict(), ensure_ascii=False, indent=2) + "\n", out)
        return
    columns = [*table.dimensions, "count"]
    rows = [
        {**{d: _label(v) for d, v in zip(table.dimensions, r[:-1], strict=True)},
         "count": "suppressed" if r[-1] is None else r[-1]}
        for r in table.rows
    ]  # fmt: skip
    text = render(rows, fmt, columns)
    if fmt == "table":
        total = "suppressed" if table.total is None else table.total
        text += f"acts counted: {total} ({table.scope} scope"
        text += f", k={table.k}" if table.protected else ""
        text += f", epsilon={table.epsilon}" if table.epsilon is not None else ""
        text += "; multi-valued: " + ",".join(table.multi_valued) if table.multi_valued else ""
        text += ")\n"
    _emit(text, out)


@stats.command("trend")
@_vault
@click.option("--period", type=click.Choice(["year", "quarter", "month"]), default="year",
              show_default=True)  # fmt: skip
@click.option("--by", "by", multiple=True, help="Series by these dimensions (repeatable).")
@click.option("--crosswalk", default="amparo", show_default=True, help="As for amparo stats.")
@_filter_options
@click.pass_context
@handle_errors
def trend_command(
    ctx: click.Context, /, vault: Path | None, period: str, by: tuple[str, ...], crosswalk: str,
    exclude_confidential: bool, fmt: str, out: Path | None, **filters: Any,
) -> None:  # fmt: skip
    """Counts per period with the change from the previous period (amparo stats trend)."""
    from amparo.analytics.aggregates import trend

    with open_registry(_vault_of(ctx, vault)) as registry:
        result = trend(registry, period, list(by), _filter(filters), crosswalk,
                       include_confidential=not exclude_confidential)  # fmt: skip
    if fmt == "json":
        _emit(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", out)
        return
    columns = [*result.dimensions, "period", "count", "change", "change_pct"]
    rows = [
        {**{d: _label(v) for d, v in zip(result.dimensions, r.values, strict=True)},
         "period": r.period, "count": "suppressed" if r.count is None else r.count,
         "change": r.change, "change_pct": r.change_pct}
        for r in result.rows
    ]  # fmt: skip
    _emit(render(rows, fmt, columns), out)


@stats.command("escalations")
@_vault
@_filter_options
@click.pass_context
@handle_errors
def escalations_command(
    ctx: click.Context, /, vault: Path | None, exclude_confidential: bool, fmt: str,
    out: Path | None, **filters: Any,
) -> None:  # fmt: skip
    """Defenders whose online attacks were followed by offline ones, and threats by physical
    attacks, with the interval between (amparo stats escalations)."""
    from amparo.analytics.aggregates import escalations

    with open_registry(_vault_of(ctx, vault)) as registry:
        result = escalations(registry, _filter(filters),
                             include_confidential=not exclude_confidential)  # fmt: skip
    if fmt == "json":
        _emit(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", out)
        return
    buckets = list(result.patterns[0].intervals) if result.patterns else []
    columns = ["pattern", "defenders_with_first", "escalated", "median_days", "mean_days",
               *buckets]  # fmt: skip
    rows = [{**p.to_dict(), **dict(p.intervals)} for p in result.patterns]
    for row in rows:
        row.pop("intervals", None)
        for key, value in list(row.items()):
            if value is None and key != "median_days" and key != "mean_days":
                row[key] = "suppressed"
    _emit(render(rows, fmt, columns), out)
