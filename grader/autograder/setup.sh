#!/usr/bin/env bash
# setup.sh - Gradescope autograder setup (Ubuntu 22.04 image, runs as root once when the
# autograder is built): installs what the ntlab grader needs. The course tree is in
# /autograder/source/ntlab (from build/autograder.zip, made by `make autograder`).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
    qemu-system-x86 grub-pc-bin grub-common xorriso mtools nasm gcc gcc-multilib binutils make \
    python3 python3-pytest python3-pytest-xdist bubblewrap util-linux \
    python3-pycparser python3-capstone python3-pyelftools similarity-tester
AG="${NTLAB_AUTOGRADER_ROOT:-/autograder}"
# Warm the build cache: the framework is compiled once here, so a submission only
# recompiles its own files.
cd "$AG/source/ntlab"
NTLAB_DEPS_OK=1 make --no-print-directory SOL=none iso
chmod -R a+rX "$AG/source"
