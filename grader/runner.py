"""Grade one checkpoint end to end: check the build, boot QEMU with the checkpoint's ktests
and seed, and judge the result (used by the pytest plugin, usable on its own).
"""
from __future__ import annotations

import os

from grader import build as b
from grader import qemu as q
from grader import verdict as v
from grader.selection import ROOT


class ConfigError(ValueError):
    """A bad environment setting (e.g. NTLAB_TIMEOUT_SCALE)."""


def timeout_scale() -> float:
    """NTLAB_TIMEOUT_SCALE as a float (default 1); raises ConfigError if it is not a positive number."""
    raw = os.environ.get("NTLAB_TIMEOUT_SCALE", "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ConfigError(f"NTLAB_TIMEOUT_SCALE={raw!r} must be a number > 0 (e.g. 2 for a slow machine)")
    return value


def effective_timeout(checkpoint) -> float:
    return checkpoint.timeout * timeout_scale()


def run_checkpoint(checkpoint, *, sol: str = "none", seed: int = 1, root: str = ROOT,
                   status: b.BuildStatus | None = None) -> tuple[v.Verdict, q.QemuRun | None]:
    """Boot one checkpoint and judge it. status is the build status (waited for if omitted).

    Returns (verdict, the QEMU run or None when it did not start).
    """
    if status is None:
        status = b.wait_for_build(sol, root)
    if not status.ok:
        log_path = os.path.relpath(status.log_path, root) if status.log else ""
        return v.build_error_verdict(status.log, checkpoint, sol=sol, seed=seed, message=status.message,
                                     log_path=log_path), None
    command = q.qemu_command(status.iso, checkpoint.ktests, seed, checkpoint.memory)
    try:
        timeout = effective_timeout(checkpoint)
    except ConfigError as e:
        return v.qemu_error_verdict(str(e), checkpoint, sol=sol, seed=seed), None
    try:
        run = q.run_qemu(command, timeout)
    except q.QemuNotFound as e:
        return v.qemu_error_verdict(str(e), checkpoint, sol=sol, seed=seed), None
    except OSError as e:
        return v.qemu_error_verdict(f"cannot start {command[0]}: {e.strerror or e}", checkpoint,
                                    sol=sol, seed=seed, command=command), None
    verdict = v.judge(run.output, run.exit_status, run.timed_out, run.flooded, checkpoint, sol=sol,
                      seed=seed, timeout=timeout, stderr=run.stderr, command=command)
    return verdict, run
