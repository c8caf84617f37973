"""Approximate dates: the forms documentation really has, and the mistakes it must refuse."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amparo.domain.dates import EARLIEST, ApproxDate, parse_approx_date, parse_date
from amparo.errors import ValidationError
from tests.conftest import NOW

TODAY = NOW.date()  # 2026-11-01


@pytest.mark.parametrize(
    ("raw", "value", "precision", "shown"),
    [
        ("2023-05-14", date(2023, 5, 14), "exact", "2023-05-14"),
        ("2023-05", date(2023, 5, 1), "unknown_day", "2023-05"),
        ("2023", date(2023, 1, 1), "unknown_month", "2023"),
        ("~2023-05-14", date(2023, 5, 14), "estimate", "~2023-05-14"),
        ("~2023", date(2023, 1, 1), "estimate", "~2023-01-01"),
        ("  2024-02-29 ", date(2024, 2, 29), "exact", "2024-02-29"),
        ("1900-01-01", date(1900, 1, 1), "exact", "1900-01-01"),
        ("2026-11-01", TODAY, "exact", "2026-11-01"),
        # An incomplete date is only in the future when its whole period is.
        ("2026-11", date(2026, 11, 1), "unknown_day", "2026-11"),
        ("2026", date(2026, 1, 1), "unknown_month", "2026"),
    ],
)
def test_approximate_forms(raw: str, value: date, precision: str, shown: str) -> None:
    parsed = parse_approx_date("date_start", raw, TODAY)
    assert parsed == ApproxDate(value, precision)
    assert str(parsed) == shown


def test_explicit_precision_and_estimate_marker() -> None:
    assert parse_approx_date("d", "2023-05-14", TODAY, "estimate").precision == "estimate"
    assert parse_approx_date("d", "2023-05", TODAY, "unknown_day").precision == "unknown_day"
    # '~' wins over any precision given alongside.
    assert parse_approx_date("d", "~2023-05-14", TODAY, "exact").precision == "estimate"
    assert parse_approx_date("d", date(2020, 1, 2), TODAY) == ApproxDate(date(2020, 1, 2), "exact")


@pytest.mark.parametrize(
    ("raw", "precision", "needle"),
    [
        ("2023-02-30", None, "not a real date"),
        ("2023-13", None, "not a real date"),
        ("2023-00-10", None, "not a real date"),
        ("2026-11-02", None, "future"),
        ("2026-12", None, "future"),
        ("2027", None, "future"),
        ("~2030-01-01", None, "future"),
        ("1899-12-31", None, "before 1900"),
        ("1899", None, "before 1900"),
        ("2023-05", "exact", "cannot be exact"),
        ("2023", "exact", "cannot be exact"),
        ("14/05/2023", None, "YYYY"),
        ("2023-5-14", None, "YYYY"),
        ("", None, "required"),
        ("   ", None, "required"),
        (None, None, "required"),
        (20230514, None, "required"),
    ],
)
def test_refused_dates_name_the_field(raw: object, precision: str | None, needle: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_approx_date("date_start", raw, TODAY, precision)
    assert info.value.field == "date_start"
    assert needle in info.value.message
    assert str(info.value).startswith("date_start: ")


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        parse_approx_date("date_start", "2023-05-14", TODAY, "sometime")
    assert info.value.field == "date_start_precision"


def test_approx_date_objects_are_range_checked_too() -> None:
    with pytest.raises(ValidationError, match="future"):
        parse_approx_date("d", ApproxDate(date(2027, 1, 1), "exact"), TODAY)
    with pytest.raises(ValidationError, match="future"):
        parse_approx_date("d", date(2027, 1, 1), TODAY)
    kept = ApproxDate(date(2001, 1, 1), "unknown_month")
    assert parse_approx_date("d", kept, TODAY) is kept


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ("2024-02-30", "not a real date"),
        ("2024-06", "not a real date"),
        ("2027-01-01", "future"),
        ("1850-06-01", "before 1900"),
        (12, "YYYY-MM-DD"),
        (None, "YYYY-MM-DD"),
        (date(1899, 12, 31), "before 1900"),
    ],
)
def test_parse_date_refuses(raw: object, needle: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_date("consents[0].recorded_on", raw, TODAY)
    assert info.value.field == "consents[0].recorded_on"
    assert needle in info.value.message


def test_parse_date_accepts() -> None:
    assert parse_date("d", " 2024-02-29 ", TODAY) == date(2024, 2, 29)
    assert parse_date("d", TODAY, TODAY) == TODAY
    assert parse_date("d", EARLIEST, TODAY) == EARLIEST


def test_coarser_precision_is_stable_through_text() -> None:
    parsed = parse_approx_date("d", "2023-05-14", TODAY, "unknown_month")
    again = parse_approx_date("d", str(parsed), TODAY, parsed.precision)
    assert again == parsed


PRECISIONS = ("exact", "unknown_day", "unknown_month", "estimate")


def _written(value: date, precision: str) -> str:
    if precision == "unknown_month":
        return f"{value.year:04d}"
    if precision == "unknown_day":
        return f"{value.year:04d}-{value.month:02d}"
    text = value.isoformat()
    return f"~{text}" if precision == "estimate" else text


@settings(max_examples=150, database=None, deadline=None)
@given(st.dates(min_value=EARLIEST, max_value=TODAY), st.sampled_from(PRECISIONS))
def test_text_round_trip(value: date, precision: str) -> None:
    parsed = parse_approx_date("date_start", _written(value, precision), TODAY)
    assert parsed.precision == precision
    assert parsed.value <= value
    assert parse_approx_date("date_start", str(parsed), TODAY) == parsed
    # The JSON shape: the text without '~' plus the precision, as Incident.to_dict writes it.
    assert parse_approx_date("date_start", str(parsed).lstrip("~"), TODAY, precision) == parsed


@settings(max_examples=100, database=None, deadline=None)
@given(st.dates(min_value=date(TODAY.year, TODAY.month, 2), max_value=date(2100, 1, 1)))
def test_every_future_day_is_refused(value: date) -> None:
    with pytest.raises(ValidationError, match="future"):
        parse_approx_date("date_start", value.isoformat(), TODAY)
