"""Grade one checkpoint end to end: check the build, boot QEMU with the checkpoint's ktests
and seed, and judge the result (used by the pytest plugin, usable on its own).
"""
from __future__ import annotations

import os

from grader import auth as a
from grader import bootstate as bs
from grader import build as b
from grader import onstop
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


_AUTH_CACHE: dict[tuple, bool] = {}


def kernel_authenticates(status: b.BuildStatus) -> bool:
    """True if the built kernel reads the grader's key (its image names opt/ntlab/auth):
    decided from the image built from the framework, never from the serial output."""
    for path in (status.elf, status.iso):
        try:
            st = os.stat(path)
        except OSError:
            continue
        key = (path, st.st_mtime_ns, st.st_size)
        if key not in _AUTH_CACHE:
            found = False
            needle = a.FW_CFG_NAME.encode()
            with open(path, "rb") as f:
                tail = b""
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    if needle in tail + chunk:
                        found = True
                        break
                    tail = chunk[-len(needle):]
            _AUTH_CACHE[key] = found
        return _AUTH_CACHE[key]
    return False


def max_serial() -> int:
    """NTLAB_MAX_SERIAL (bytes) or qemu.MAX_SERIAL: the serial output kept per boot."""
    try:
        value = int(os.environ.get("NTLAB_MAX_SERIAL", "") or q.MAX_SERIAL)
    except ValueError:
        value = q.MAX_SERIAL
    return value if value > 0 else q.MAX_SERIAL


def effective_timeout(checkpoint) -> float:
    return checkpoint.timeout * timeout_scale()


def run_checkpoint(checkpoint, *, sol: str = "none", seed: int = 1, root: str = ROOT,
                   status: b.BuildStatus | None = None, mode: str | None = None,
                   boots: int | None = None, restore: str | None = None) -> tuple[v.Verdict, q.QemuRun | None]:
    """Boot one checkpoint and judge it. status is the build status (waited for if omitted);
    mode the boot path (default NTLAB_BOOT: see boot_plan); boots, if known, how many boots of
    this build share the checkpoint's memory size (a state is not worth saving for one);
    restore: a state saved inside GRUB before it reads the disk (tests/kernel_harness.py's
    loader states) to restore into the build's core image and disk, instead of boot_plan's.

    Returns (verdict, the QEMU run or None when it did not start).
    """
    if status is None:
        status = b.wait_for_build(sol, root)
    if not status.ok:
        log_path = os.path.relpath(status.log_path, root) if status.log else ""
        return v.build_error_verdict(status.log, checkpoint, sol=sol, seed=seed, message=status.message,
                                     log_path=log_path, brief=True), None
    # A fresh secret per boot; the kernel tags its records with it (a kernel built without the
    # authenticating runner, e.g. a fake QEMU in tests, is judged without tags).
    key = a.AuthKey.new() if kernel_authenticates(status) else None
    try:
        timeout = effective_timeout(checkpoint)
        mode = mode or bs.boot_mode()
        if mode == "snapshot" and boots is not None and boots < 2:
            mode = "kernel"             # saving a state costs about two boots of the core image
    except (ConfigError, ValueError) as e:
        return v.qemu_error_verdict(str(e), checkpoint, sol=sol, seed=seed), None
    image, state, _why = boot_plan(status, checkpoint.memory, mode) if not restore else \
        (status.image("kernel"), restore, "")
    auth = key.fw_cfg_value() if key else None
    command = q.qemu_command(image, checkpoint.ktests, seed, checkpoint.memory, auth=auth, state=state)
    try:
        onstop.mode()
    except onstop.OnStopError as e:
        return v.qemu_error_verdict(str(e), checkpoint, sol=sol, seed=seed), None
    try:
        if onstop.enabled():   # NTLAB_ON_STOP: keep an unexpected STOP (grader/onstop.py)
            run = onstop.run(command, timeout, root=root, name=checkpoint.id, seed=seed, max_serial=max_serial(),
                             expected_code=checkpoint.stop_code if checkpoint.expect == "stop" else None,
                             elf=status.elf)
        else:
            run = q.run_qemu(command, timeout, max_serial=max_serial())
        if state and restore_failed(run):
            # The state did not load (a QEMU that cannot read it): forget it, boot GRUB instead.
            bs.forget(state, run.stderr.strip().splitlines()[-1] if run.stderr.strip() else
                      f"QEMU exited with status {run.exit_status}")
            command = q.qemu_command(image, checkpoint.ktests, seed, checkpoint.memory, auth=auth)
            run = q.run_qemu(command, timeout, max_serial=max_serial())
    except q.QemuNotFound as e:
        return v.qemu_error_verdict(str(e), checkpoint, sol=sol, seed=seed), None
    except OSError as e:
        return v.qemu_error_verdict(f"cannot start {command[0]}: {e.strerror or e}", checkpoint,
                                    sol=sol, seed=seed, command=command), None
    verdict = v.judge(run.output, run.exit_status, run.timed_out, run.flooded, checkpoint, sol=sol,
                      seed=seed, timeout=timeout, stderr=run.stderr, command=command, auth=key,
                      elf=status.elf)
    kept = onstop.report_lines(run, root, v._sol_arg(sol))
    if kept and not verdict.passed:
        verdict.details += "\n" + "\n".join(kept)
    return verdict, run


def boot_plan(status: b.BuildStatus, memory: str = "64M", mode: str = "snapshot") -> tuple[str, str | None, str]:
    """(image, saved state or None, why no state) for a boot: the fastest path the build has.
    mode 'iso': the ISO; 'kernel': the GRUB core image; 'snapshot': the core image's state saved
    at the kernel's first instruction, restored (else the core image, else the ISO)."""
    image = status.image(mode)
    if mode != "snapshot" or q.is_iso(image):
        return image, None, f"NTLAB_BOOT={mode}" if mode != "snapshot" else "no core image"
    try:
        state, why = bs.saved_state(image, status.elf, memory)
    except OSError as e:                # e.g. a read-only build folder: boot the core image
        return image, None, f"no saved state: {e.strerror or e}"
    return image, state, why


def restore_failed(run: q.QemuRun) -> bool:
    """QEMU could not load a saved state: it said so and ended without any serial output."""
    return (not run.output and not run.timed_out and run.exit_status not in q.KNOWN_EXITS
            and ("migration" in run.stderr.lower() or "incoming" in run.stderr.lower()
                 or "load of" in run.stderr.lower()))
