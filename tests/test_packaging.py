"""Every file the package needs at run time is declared as package data (a wheel carries
only those; an editable install would hide the omission)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_data_file_of_the_package_is_declared() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["amparo"]
    package = ROOT / "amparo"
    declared = {path for pattern in patterns for path in package.glob(pattern)}  # as setuptools
    undeclared = [
        str(path.relative_to(package))
        for path in package.rglob("*")
        if path.is_file()
        and path.suffix not in (".py", ".pyc")
        and path.name != "messages.pot"  # the extraction template, not read at run time
        and path not in declared
    ]
    assert undeclared == []
