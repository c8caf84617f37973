"""docs/benchmarks.md: each benchmark owns one ``## `` section and rewrites only that.

A section runs from its heading to the next ``## `` heading. What a person wrote below the
generated part, from a ``#### `` heading on, is kept when the section is rewritten.
"""

from __future__ import annotations

from pathlib import Path

#: Exit status of a benchmark that ran to the end and wrote its results, but missed a target
#: it checks (the soak's memory growth or 5xx answers): a result, not a crash (bench.all).
CRITERIA_NOT_MET = 3


def _bounds(text: str, heading: str) -> tuple[int, int] | None:
    start = text.find(heading + "\n")
    if start < 0:
        return None
    end = text.find("\n## ", start + len(heading))
    return start, (len(text) if end < 0 else end + 1)


def notes(path: Path, heading: str) -> str:
    """The hand-written findings of the section (from its first ``#### `` on), or ""."""
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    bounds = _bounds(text, heading)
    if bounds is None:
        return ""
    section = text[bounds[0] : bounds[1]]
    found = section.find("\n#### ")
    return "" if found < 0 else section[found + 1 :]


def write_section(path: Path, heading: str, body: str) -> None:
    """Replace the section ``heading`` (a ``## `` line; ``body`` starts with it) or append
    it, keeping the notes below it."""
    kept = notes(path, heading)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    new = body.rstrip("\n") + "\n" + ("\n" + kept.strip("\n") + "\n" if kept else "")
    bounds = _bounds(text, heading)
    if bounds is None:
        path.write_text(text.rstrip("\n") + "\n\n" + new, encoding="utf-8")
        return
    rest = text[bounds[1] :]
    path.write_text(text[: bounds[0]] + new + ("\n" + rest if rest else ""), encoding="utf-8")
