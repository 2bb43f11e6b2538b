"""The ktest runner's seeded generator in Python (kernel/rtl/random.c, kernel/ktest/support.c):
a test's state is seed ^ FNV-1a(test name), advanced by splitmix64."""
from __future__ import annotations

M64 = (1 << 64) - 1


def fnv1a64(text: str) -> int:
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) & M64
    return h


class KtRng:
    """KtRandom / KtRandomRange of one ktest."""

    def __init__(self, seed: int, test: str):
        self.state = (seed ^ fnv1a64(test)) & M64

    def random(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def range(self, low: int, high: int) -> int:
        if high <= low:
            return low
        return low + self.random() % (high - low + 1)


def signed_hex(v: int) -> str:
    """0x... of a 64-bit value, with its signed value when negative."""
    v &= M64
    return f"0x{v:x}" + (f" ({v - (1 << 64)})" if v >> 63 else "")
