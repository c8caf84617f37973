"""The installed ``amparo`` command works from any directory (as `make demo` runs it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from amparo import __version__


def test_console_script_runs_outside_the_repository(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "amparo"
    result = subprocess.run(
        [str(script), "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout
