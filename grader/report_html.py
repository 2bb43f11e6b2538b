"""The batch report (DIR/report.html of python3 -m grader batch): one self-contained HTML page
with no external assets - a per-student table, the pass rate of every checkpoint as inline SVG
bars, and a histogram of the total scores.
"""
from __future__ import annotations

import html
import time

CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3} td.l,th.l{text-align:left}
tr.err td{background:#fde8e8}
tr.flag td{background:#fff4d6}
.muted{color:#777}
"""


def _esc(x) -> str:
    return html.escape(str(x), quote=True)


def _bars(rows: list[tuple[str, float, str]], width: int = 420) -> str:
    """Horizontal bars: (label, fraction 0..1, text) -> inline SVG."""
    h = 18
    label_w = 260
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + width + 90}" height="{h * len(rows) + 4}" '
           f'role="img" aria-label="pass rate per checkpoint">']
    for i, (label, frac, text) in enumerate(rows):
        y = i * h + 2
        w = max(0.0, min(1.0, frac)) * width
        color = "#3a9a4a" if frac >= 0.8 else "#d9a21b" if frac >= 0.4 else "#c84b3a"
        out.append(f'<text x="{label_w - 6}" y="{y + 13}" font-size="12" text-anchor="end">{_esc(label)}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 2}" width="{width}" height="{h - 4}" fill="#eee"/>')
        out.append(f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{h - 4}" fill="{color}"/>')
        out.append(f'<text x="{label_w + width + 6}" y="{y + 13}" font-size="12">{_esc(text)}</text>')
    out.append("</svg>")
    return "".join(out)


def _histogram(percents: list[float], bins: int = 10) -> str:
    counts = [0] * bins
    for p in percents:
        counts[min(bins - 1, int(p * bins / 100))] += 1
    top = max(counts) or 1
    bw, hh = 44, 160
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{bins * bw + 20}" height="{hh + 40}" '
           f'role="img" aria-label="score histogram">']
    for i, c in enumerate(counts):
        bh = c / top * hh
        x = 10 + i * bw
        out.append(f'<rect x="{x + 3}" y="{hh - bh + 10:.1f}" width="{bw - 6}" height="{bh:.1f}" fill="#4a72b0"/>')
        if c:
            out.append(f'<text x="{x + bw / 2}" y="{hh - bh + 6:.1f}" font-size="11" text-anchor="middle">{c}</text>')
        lo = i * 100 // bins
        out.append(f'<text x="{x + bw / 2}" y="{hh + 26}" font-size="10" text-anchor="middle">{lo}-'
                   f'{lo + 100 // bins}%</text>')
    out.append(f'<line x1="10" y1="{hh + 10}" x2="{10 + bins * bw}" y2="{hh + 10}" stroke="#333"/>')
    out.append("</svg>")
    return "".join(out)


def render(records: list[dict], title: str = "ntlab batch report", pairs: list | None = None) -> str:
    graded = [r for r in records if r.get("status") == "graded"]
    labs = sorted({lab for r in graded for lab in r.get("labs", {})})
    lab_max = {}
    for r in graded:
        lab_max.update(r.get("lab_max", {}))
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_esc(title)}</title>"
             f"<style>{CSS}</style></head><body>",
             f"<h1>{_esc(title)}</h1>",
             f"<p class='muted'>{len(records)} submission(s), {len(graded)} graded, "
             f"{len(records) - len(graded)} error(s); written {_esc(time.strftime('%Y-%m-%d %H:%M:%S'))}</p>"]
    # per-student table
    parts.append("<h2>Students</h2><table><tr><th class='l'>student</th>"
                 + "".join(f"<th>lab {_esc(l)}<br><span class='muted'>/{lab_max.get(l, '?')}</span></th>" for l in labs)
                 + "<th>total</th><th>%</th><th class='l'>notes</th></tr>")
    for r in records:
        if r.get("status") == "graded":
            pct = 100 * r["score"] / r["max_score"] if r.get("max_score") else 0
            cells = "".join(f"<td>{r['labs'].get(l, 0)}</td>" for l in labs)
            notes = ", ".join(r.get("problems", []))
            if r.get("flagged"):
                notes = "REVIEW: " + "; ".join(r.get("review", [])) + (" | " + notes if notes else "")
            parts.append(f"<tr{' class=flag' if r.get('flagged') else ''}><td class='l'>{_esc(r['student'])}</td>{cells}<td>{r['score']}/{r['max_score']}</td>"
                         f"<td>{pct:.0f}</td><td class='l muted'>{_esc(notes)}</td></tr>")
        else:
            cells = "".join("<td></td>" for _ in labs)
            parts.append(f"<tr class='err'><td class='l'>{_esc(r['student'])}</td>{cells}<td>0</td><td></td>"
                         f"<td class='l'>error: {_esc(r.get('error', ''))}</td></tr>")
    parts.append("</table>")
    # for review: flagged submissions and similar pairs
    flagged = [r for r in records if r.get("flagged")]
    parts.append(f"<h2>For review</h2><p>{len(flagged)} submission(s) flagged by the checks"
                 + (": " + ", ".join(_esc(r["student"]) for r in flagged) if flagged else "") + "</p>")
    if pairs is not None:
        parts.append("<h3>Similar submissions (similarity-tester, sim_c)</h3>")
        if pairs:
            parts.append("<table><tr><th class='l'>student</th><th class='l'>similar to</th><th>% of the code</th></tr>"
                         + "".join(f"<tr><td class='l'>{_esc(a)}</td><td class='l'>{_esc(b)}</td><td>{int(p)}</td></tr>"
                                   for a, b, p in pairs) + "</table>")
        else:
            parts.append("<p class='muted'>no pair above the threshold</p>")
    # pass rate per checkpoint
    names = []
    for r in graded:
        for n in r.get("checkpoints", {}):
            if n not in names:
                names.append(n)
    if graded and names:
        rows = []
        for n in sorted(names):
            seen = [r["checkpoints"][n] for r in graded if n in r.get("checkpoints", {})]
            passed = sum(1 for x in seen if x)
            rows.append((n, passed / len(seen) if seen else 0.0, f"{passed}/{len(seen)}"))
        parts.append("<h2>Pass rate per checkpoint</h2>" + _bars(rows))
    # histogram
    if graded:
        pcts = [100 * r["score"] / r["max_score"] if r.get("max_score") else 0 for r in graded]
        mean = sum(pcts) / len(pcts)
        parts.append(f"<h2>Score histogram</h2><p class='muted'>mean {mean:.1f}%</p>" + _histogram(pcts))
    parts.append("</body></html>\n")
    return "\n".join(parts)
