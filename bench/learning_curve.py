"""Learning-curve benchmark: does the model get better as staff correct it?

Half A of ../shared/data/real_dev.jsonl plays the role of staff corrections, fed in growing shares;
after each retrain (the production path: `triage.learning.retrain`, which keeps a quarter of the
corrections for its own gate) the candidate is measured on half B, which it never sees.
Writes bench/learning_curve.md and bench/learning_curve.svg.

    .venv/bin/python bench/learning_curve.py
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import SHARED, machine  # noqa: E402

from triage import Example, Model, load_examples  # noqa: E402
from triage.classify import evaluate_predictions  # noqa: E402
from triage.examples import default_training_files  # noqa: E402
from triage.learning import Gate, retrain  # noqa: E402

STEPS = (0, 25, 50, 75, 100)


def halves(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """A stable split: order by text hash, alternate."""
    ordered = sorted(rows, key=lambda r: hashlib.sha1(r["text"].encode("utf-8")).hexdigest())
    return ordered[0::2], ordered[1::2]


def svg(points: list[tuple[int, float]], path: Path) -> None:
    w, h, pad = 480, 260, 44
    xs = [p[0] for p in points]
    lo, hi = min(p[1] for p in points) - 0.02, max(p[1] for p in points) + 0.02
    x = lambda v: pad + (v - min(xs)) * (w - 2 * pad) / max(1, max(xs) - min(xs))
    y = lambda v: h - pad - (v - lo) * (h - 2 * pad) / max(1e-9, hi - lo)
    line = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in points)
    dots = "".join(f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="3.5" fill="#1f6feb"/>'
                   f'<text x="{x(a):.1f}" y="{y(b) - 9:.1f}" font-size="11" text-anchor="middle">{b:.3f}</text>' for a, b in points)
    ticks = "".join(f'<text x="{x(a):.1f}" y="{h - pad + 16}" font-size="11" text-anchor="middle">{a}</text>' for a, _ in points)
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif">'
        f'<rect width="100%" height="100%" fill="#fff"/>'
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#999"/>'
        f'<line x1="{pad}" y1="{pad / 2}" x2="{pad}" y2="{h - pad}" stroke="#999"/>'
        f'<polyline points="{line}" fill="none" stroke="#1f6feb" stroke-width="2"/>{dots}{ticks}'
        f'<text x="{w / 2}" y="{h - 6}" font-size="12" text-anchor="middle">corrections fed (real messages, half A)</text>'
        f'<text x="12" y="{h / 2}" font-size="12" transform="rotate(-90 12 {h / 2})" text-anchor="middle">macro-F1 on half B</text>'
        f'</svg>\n', encoding="utf-8")


def main() -> int:
    path = SHARED / "real_dev.jsonl"
    if not path.is_file():
        print("skipped: ../shared/data/real_dev.jsonl absent")
        return 0
    current = Model.load()
    rows = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
    a, b = halves(rows)
    base = load_examples(default_training_files(), current.taxonomy)
    truth = [r["label"] for r in b]
    labels = list(current.taxonomy.codes)
    points, lines = [], []
    for n in STEPS:
        feed = [Example(r["text"], r["label"]) for r in a[:n]]
        start = time.perf_counter()
        model = retrain(base, feed, current, gate=Gate()).candidate if feed else current
        seconds = time.perf_counter() - start
        r = evaluate_predictions(truth, [p.category for p in model.predict([x["text"] for x in b])], labels)
        points.append((len(feed), r["macro_f1"]))
        lines.append(f"| {len(feed)} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {seconds:.1f} s |")
        print(lines[-1], flush=True)
    gain = points[-1][1] - points[0][1]
    table = "\n".join([
        f"Measured {dt.date.today()} on {machine()} by `bench/learning_curve.py`: half A of real_dev "
        f"({len(a)} messages) fed as corrections, macro-F1 measured on half B ({len(b)} messages).", "",
        "| corrections fed | accuracy (B) | macro-F1 (B) | retrain time |", "|---|---|---|---|", *lines, "",
        f"Change in macro-F1 from 0 to {points[-1][0]} corrections: {gain * 100:+.1f} points (target +5).", ""])
    (ROOT / "bench" / "learning_curve.md").write_text(table, encoding="utf-8")
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if "<!-- curve:start -->" in text:
        head, rest = text.split("<!-- curve:start -->", 1)
        _, tail = rest.split("<!-- curve:end -->", 1)
        readme.write_text(f"{head}<!-- curve:start -->\n{table}<!-- curve:end -->{tail}", encoding="utf-8")
    svg(points, ROOT / "bench" / "learning_curve.svg")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
