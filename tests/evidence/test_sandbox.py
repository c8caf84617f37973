"""The child process: same result as in-process, and the limits hold."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from amparo.evidence import sandbox
from amparo.evidence.sandbox import Limits, prepare_shared_copy
from amparo.evidence.strip import STRIPPED, Refused, prepare
from tests.evidence import samples


def test_the_child_gives_what_prepare_gives() -> None:
    original = samples.jpeg()
    assert prepare_shared_copy(original, "image/jpeg") == prepare(original, "image/jpeg")
    copy = prepare_shared_copy(samples.pdf(), "application/pdf")
    assert copy.status == STRIPPED and samples.pdf_metadata(copy.data) == (None, None)


def test_bombs_are_refused_in_the_child() -> None:
    with pytest.raises(Refused, match="too large to open safely"):
        prepare_shared_copy(samples.png_bomb(), "image/png")
    with pytest.raises(Refused, match="expand"):
        prepare_shared_copy(samples.zip_bomb(200), "application/zip")


def test_pillow_in_the_child_uses_the_pixel_limit() -> None:
    # 6000 x 6000 is under Pillow's own default but over this limit.
    with pytest.raises(Refused, match="too large to open safely"):
        prepare_shared_copy(samples.png_bomb(6000, 6000), "image/png",
                            Limits(max_pixels=30_000_000))  # fmt: skip


def test_memory_limit_kills_a_greedy_child() -> None:
    # A file larger than the address space allowed cannot even be read in.
    with pytest.raises(Refused, match="memory and time allowed"):
        prepare_shared_copy(samples.jpeg() + b"\x00" * (80 << 20), "image/jpeg",
                            Limits(memory_bytes=100 << 20))  # fmt: skip


def test_wall_clock_timeout_kills_the_child() -> None:
    with pytest.raises(Refused, match="took longer than"):
        prepare_shared_copy(samples.jpeg(), "image/jpeg", Limits(timeout_seconds=0.001))


def test_limits_seen_from_inside_the_child(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    code = (
        "import json, resource, sys; from amparo.evidence.sandbox import apply_limits; "
        "apply_limits({'memory_bytes': 300 << 20, 'cpu_seconds': 7}); "
        "print(json.dumps([resource.getrlimit(r) for r in (resource.RLIMIT_AS, "
        "resource.RLIMIT_CPU, resource.RLIMIT_FSIZE, resource.RLIMIT_CORE, "
        "resource.RLIMIT_NPROC)]), flush=True); "
        "f = open(sys.argv[1], 'wb', buffering=0); f.write(b'plaintext')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(probe)], capture_output=True, text=True, check=False
    )
    assert done.stdout.startswith("[[314572800, 314572800], [7, 8], [0, 0], [0, 0], [0, 0]]")
    assert done.returncode != 0 and "File too large" in done.stderr
    assert probe.stat().st_size == 0  # not one byte reaches the disk


def test_a_crashing_child_is_a_refusal_not_a_server_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_BOOT", "import sys; sys.exit(3)")
    with pytest.raises(Refused, match="could not be checked"):
        prepare_shared_copy(b"x", "text/plain")


def test_the_server_process_keeps_its_own_limits() -> None:
    before = resource.getrlimit(resource.RLIMIT_AS)
    prepare_shared_copy(samples.png(), "image/png")
    assert resource.getrlimit(resource.RLIMIT_AS) == before
