#!/usr/bin/env bash
# install-deps.sh - checks the tools ntlab needs and installs the missing ones with
# apt-get (as root), or prints the exact command to run. Exit 0 when all are present.
set -u
need=()
check() { command -v "$1" >/dev/null 2>&1 || need+=("$2"); }
check qemu-system-x86_64 qemu-system-x86
check grub-mkrescue grub-common
[ -d /usr/lib/grub/i386-pc ] || need+=(grub-pc-bin)
check xorriso xorriso
check mformat mtools
check nasm nasm
check gcc gcc
check ld binutils
check make make
check flock util-linux
check gdb gdb   # make gdb, make debug-dump and their tests (tools/gdb)
check tmux tmux # the GDB session tests
check pandoc pandoc # make handouts (the course site)
/usr/bin/python3 -c 'import elftools' >/dev/null 2>&1 || need+=(python3-pyelftools)
check setpriv util-linux
# the submission pipeline: isolation, the checks of what was built, similarity reports
check bwrap bubblewrap
check sim_c similarity-tester
[ -e /usr/lib/gcc/x86_64-linux-gnu/"$(gcc -dumpversion 2>/dev/null || echo x)"/32/libgcc.a ] || need+=(gcc-multilib)
if ! /usr/bin/python3 -c 'import pytest, xdist' >/dev/null 2>&1; then
    # Debian's interpreter and modules (a python3 elsewhere on PATH does not count)
    /usr/bin/python3 -c 'import pytest' >/dev/null 2>&1 || need+=(python3 python3-pytest)
    /usr/bin/python3 -c 'import xdist' >/dev/null 2>&1 || need+=(python3-pytest-xdist)
fi
/usr/bin/python3 -c 'import pycparser' >/dev/null 2>&1 || need+=(python3-pycparser)
/usr/bin/python3 -c 'import capstone' >/dev/null 2>&1 || need+=(python3-capstone)
/usr/bin/python3 -c 'import elftools' >/dev/null 2>&1 || need+=(python3-pyelftools)
[ ${#need[@]} -eq 0 ] && exit 0

# de-duplicate
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
cmd="apt-get install -y ${need[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "ntlab: missing packages: ${need[*]}" >&2
    echo "ntlab: install them with:  sudo apt-get update && sudo $cmd" >&2
    exit 1
fi
echo "ntlab: installing missing packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q "${need[@]}" >&2; then
    apt-get update -q >&2 && apt-get install -y -q "${need[@]}" >&2 || {
        echo "ntlab: apt-get failed; run: apt-get update && $cmd" >&2
        exit 1
    }
fi
