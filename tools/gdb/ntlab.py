# ntlab.py - loads the NT-style debugger commands (`nt help` lists them) into GDB.
#
#   gdb build/all/ntlab.elf -x tools/gdb/ntlab.py      (what `make gdb` and `make debug-dump` do)
#   source tools/gdb/ntlab.py                          (inside a running GDB)
#
# The commands live in tools/gdb/ntgdb/, one module per area (mm.py, pool.py, ...); a later
# lab adds its own module there and it is loaded with the others. Loading twice is harmless.
import os
import sys

import gdb

_HERE = os.path.dirname(os.path.abspath(os.path.expanduser(__file__)))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import ntgdb  # noqa: E402

ntgdb.load()
