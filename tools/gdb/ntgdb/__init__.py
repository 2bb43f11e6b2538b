"""ntgdb - NT-style debugger commands for ntlab under one GDB prefix, `nt`.

Every command is a function registered with @command(name, usage, summary, lab). It
reads the kernel through its debug information and memory (core.py), prints with
out(), and reports a problem by raising core.NtError: the user sees one clear line
(`nt pool: ...`), never a Python traceback, also when the structures are corrupt.

A later lab adds a module beside mm.py/pool.py with its own @command functions; every
module of this package is loaded by load().
"""
from __future__ import annotations

import importlib
import os
import pkgutil

import gdb

from ntgdb import core

# name -> Command
COMMANDS: dict[str, "Command"] = {}


class Command:
    def __init__(self, name, usage, summary, lab, func, needs_target=True):
        self.name, self.usage, self.summary, self.lab, self.func = name, usage, summary, lab, func
        self.needs_target = needs_target


def command(name: str, usage: str, summary: str, lab: str, needs_target: bool = True):
    """Register `nt <name> <usage>`: summary is the one line `nt help` shows; lab the lab
    whose structures it reads ("00".."09"); needs_target: only on a live kernel or a dump."""
    def deco(func):
        COMMANDS[name] = Command(name, usage, summary, lab, func, needs_target)
        return func
    return deco


def run(name: str, arg: str) -> None:
    """Run one nt command with every error turned into a message."""
    cmd = COMMANDS[name]
    try:
        if cmd.needs_target and core.target_kind() == "none":
            core.out(f"nt {name}: GDB is attached neither to the kernel (make qemu-gdb, then make gdb) "
                     f"nor to a dump (make debug-dump DUMP=...)")
            return
        cmd.func(arg.strip())
    except core.NtError as e:
        core.out(f"nt {name}: {e}")
    except gdb.MemoryError as e:
        core.out(f"nt {name}: memory is not readable: {e}")
    except KeyboardInterrupt:
        core.out(f"nt {name}: interrupted")
    except gdb.error as e:
        core.out(f"nt {name}: {e}")
    except Exception as e:  # never a traceback: the kernel under study may be anything
        core.out(f"nt {name}: internal error ({type(e).__name__}: {e}); the command could not finish")


class _Prefix(gdb.Command):
    """NT-style debugger commands for ntlab (`nt help` lists them)."""

    def __init__(self):
        super().__init__("nt", gdb.COMMAND_USER, gdb.COMPLETE_NONE, True)

    def invoke(self, arg, from_tty):
        if arg.strip():
            core.out(f"nt: no command {arg.split()[0]!r}; `nt help` lists them")
        else:
            run("help", "")


class _Sub(gdb.Command):
    def __init__(self, cmd: Command):
        self.__doc__ = f"nt {cmd.name} {cmd.usage}\n{cmd.summary}"
        super().__init__(f"nt {cmd.name}", gdb.COMMAND_USER, gdb.COMPLETE_EXPRESSION)
        self.cmd_name = cmd.name

    def invoke(self, arg, from_tty):
        run(self.cmd_name, arg)


_registered: set[str] = set()
_prefix = None


def load() -> None:
    """Import every module of the package and define its commands in GDB (idempotent)."""
    global _prefix
    here = os.path.dirname(os.path.abspath(__file__))
    for info in sorted(pkgutil.iter_modules([here]), key=lambda m: m.name):
        importlib.import_module(f"ntgdb.{info.name}")
    if _prefix is None:
        _prefix = _Prefix()
        core.install_events()
    for name, cmd in COMMANDS.items():
        if name not in _registered:
            _Sub(cmd)
            _registered.add(name)


@command("help", "", "every nt command, one line each", "00", needs_target=False)
def _help(arg: str) -> None:
    width = max(len(f"nt {c.name} {c.usage}".rstrip()) for c in COMMANDS.values())
    core.out("ntlab debugger commands (numbers are hex, as in WinDbg; any GDB expression works too):")
    for c in sorted(COMMANDS.values(), key=lambda c: (c.lab, c.name)):
        core.out(f"  {f'nt {c.name} {c.usage}'.rstrip():<{width}}  {c.summary}  [lab {c.lab}]")
