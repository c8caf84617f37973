"""Parsing untrusted files in a child process with resource limits.

Image and PDF parsers are large C and Python code bases fed with bytes an adversary chose:
a crafted file may exhaust memory, spin for ever or exploit a parser bug. So the web server
and the CLI never parse an upload themselves. :func:`prepare_shared_copy` starts
``python -I -B`` (isolated: no environment variables, no user site, no current directory on
the path; no bytecode written) running amparo.evidence.strip, which before reading its input
limits itself to:

- ``RLIMIT_AS`` (address space, ``memory_bytes``): a bomb cannot take the machine's memory;
- ``RLIMIT_CPU`` (``cpu_seconds``): a parser loop is killed;
- ``RLIMIT_FSIZE`` 0 and ``RLIMIT_CORE`` 0: it cannot write a byte to any file nor dump its
  memory (which holds the plaintext) to disk;
- ``RLIMIT_NPROC`` 0 and ``RLIMIT_NOFILE`` small: it cannot start programs or open much
  (``RLIMIT_NPROC`` does not bind root: do not run Amparo as root);

and the parent kills it after ``timeout_seconds`` of wall time. The file goes in on stdin and
the copy comes back on stdout: nothing touches the disk. The child's environment is empty.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from amparo.evidence.strip import MAX_PIXELS, Refused, SharedCopy

__all__ = ["DEFAULT_LIMITS", "Limits", "apply_limits", "prepare_shared_copy"]


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 1 << 30  # 1 GiB of address space: the interpreter, the file, a copy
    cpu_seconds: int = 30
    timeout_seconds: float = 60.0
    max_pixels: int = MAX_PIXELS


DEFAULT_LIMITS = Limits()
# The child puts the directory holding this very amparo package first on its path.
_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); "
    "from amparo.evidence.strip import main; raise SystemExit(main())"
)


def prepare_shared_copy(
    data: bytes, media_type: str, limits: Limits = DEFAULT_LIMITS
) -> SharedCopy:
    """:func:`amparo.evidence.strip.prepare` in a limited child; raises Refused for bombs and
    for files that need more memory or time than allowed."""
    command = [sys.executable, "-I", "-B", "-c", _BOOT, _ROOT, json.dumps(asdict(limits))]
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command; the file travels on stdin
            command,
            input=media_type.encode("ascii") + b"\n" + data,
            capture_output=True,
            timeout=limits.timeout_seconds,
            env={"LC_ALL": "C.UTF-8"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise Refused(
            f"took longer than {limits.timeout_seconds:g} seconds to check (a decompression bomb?)"
        ) from None
    if done.returncode != 0:
        # Killed by a limit (a negative code is a signal: SIGXCPU, SIGKILL, SIGSEGV) or a
        # MemoryError: either way the file cannot be handled safely.
        raise Refused(
            "could not be checked within the memory and time allowed (a decompression bomb "
            "or a damaged file?)"
        )
    head, _, body = done.stdout.partition(b"\n")
    header: dict[str, Any] = json.loads(head)
    if "refused" in header:
        raise Refused(str(header["refused"]))
    return SharedCopy(
        status=str(header["status"]),
        data=body,
        media_type=header.get("media_type"),
        removed=tuple(str(label) for label in header.get("removed", [])),
        note=str(header.get("note", "")),
        facts=dict(header.get("facts", {})),
    )


def apply_limits(limits: dict[str, Any]) -> None:
    """Called first thing in the child (never in the server process)."""
    import resource
    import signal

    # Over RLIMIT_FSIZE a write fails with EFBIG instead of killing the process silently.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    memory = int(limits.get("memory_bytes", DEFAULT_LIMITS.memory_bytes))
    cpu = int(limits.get("cpu_seconds", DEFAULT_LIMITS.cpu_seconds))
    for which, soft, hard in (
        (resource.RLIMIT_AS, memory, memory),
        (resource.RLIMIT_CPU, cpu, cpu + 1),  # SIGXCPU at the soft limit, SIGKILL after
        (resource.RLIMIT_FSIZE, 0, 0),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NOFILE, 32, 32),
        (resource.RLIMIT_NPROC, 0, 0),
    ):
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, current_hard), min(hard, current_hard)
        resource.setrlimit(which, (soft, hard))
