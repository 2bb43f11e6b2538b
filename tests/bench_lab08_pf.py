#!/usr/bin/env python3
"""Benchmark of lab 08's pager (pf): boots the (ungraded) ktest pf.bench and prints, in guest
time (HPET), the page-out and page-in throughput through the whole path - a fault, the
working set's clock, an IRP to the pagefile's RAM disk completed from its DPC - and of the
raw pager (MiPageOut / MiPageIn alone), as pages per second and MB/s.

    /usr/bin/python3 tests/bench_lab08_pf.py [--sol all] [--seeds 3]
"""
import statistics
import sys

from bench_ktest import collect

KEYS = ("write_faults_per_second", "page_ins_per_second", "raw_page_outs_per_second", "raw_page_ins_per_second")


def main() -> int:
    got = collect(__doc__, "pf.bench", lambda values, text: all(k in values for k in KEYS), 180)
    if got is None:
        return 1
    args, runs = got
    v0 = runs[0][0]
    pages, ws = int(v0["pages"]), int(v0["working_set"])
    faults, outs, _ = (int(x) for x in v0["write_pass"].split())
    rfaults, ins, outs2, _ = (int(x) for x in v0["read_pass"].split())
    med = {k: statistics.median(int(v[k]) for v, _ in runs) for k in KEYS}
    print(f"lab 08 pager benchmark (SOL={args.sol}, {args.seeds} seeds, guest time from the HPET)")
    print(f"  {pages} committed pages through a working set of {ws}: the write pass takes {faults} faults and "
          f"{outs} page-outs, the read pass {rfaults} faults, {ins} page-ins and {outs2} page-outs")
    for k, label in [("write_faults_per_second", "write pass (demand zero + page-out), faults/s"),
                     ("page_ins_per_second", "read pass (page-in + page-out), page-ins/s"),
                     ("raw_page_outs_per_second", "raw MiPageOut, pages/s"),
                     ("raw_page_ins_per_second", "raw MiPageIn, pages/s")]:
        print(f"  {label:<48} {med[k]:>10,.0f}  ({med[k] * 4096 / 1e6:,.1f} MB/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
