"""Learning-curve benchmark: does the model get better as staff correct it?

Half A of ../shared/data/real_dev.jsonl plays the role of staff corrections, fed in growing shares;
after each retrain (the production path: `triage.learning.retrain`, which keeps a quarter of the
corrections for its own gate) the candidate is measured on half B, which it never sees.
With 94 messages a half, one message moves macro-F1 by a point or more, so the curve is the mean
over three different halvings, each run both ways (A→B and B→A): six runs per step.
Writes bench/learning_curve.md and bench/learning_curve.svg.
`--sweep` instead measures the last step only, for several correction weights and with or without
the gate's held-out quarter of the corrections (README, between the sweep markers).

    .venv/bin/python bench/learning_curve.py [--sweep]
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


SPLITS = 3


def halves(rows: list[dict], seed: int = 0) -> tuple[list[dict], list[dict]]:
    """A stable split: order by salted text hash, alternate."""
    key = lambda r: hashlib.sha1(f"{seed}:{r['text']}".encode("utf-8")).hexdigest()
    ordered = sorted(rows, key=key)
    return ordered[0::2], ordered[1::2]


COLOURS = {"all": "#1f6feb", "wrong": "#d1242f"}
LEGEND = {"all": "all messages of the share fed", "wrong": "only the model's mistakes corrected"}


def svg(curves: dict[str, list[tuple[int, float]]], path: Path) -> None:
    """A small line chart, one line per feeding mode (no plotting library needed)."""
    w, h, pad = 520, 280, 48
    points = [p for c in curves.values() for p in c]
    xs = [p[0] for p in points]
    lo, hi = min(p[1] for p in points) - 0.02, max(p[1] for p in points) + 0.02
    x = lambda v: pad + (v - min(xs)) * (w - 2 * pad) / max(1, max(xs) - min(xs))
    y = lambda v: h - pad - (v - lo) * (h - 2 * pad) / max(1e-9, hi - lo)
    body = []
    for i, (mode, curve) in enumerate(curves.items()):
        colour = COLOURS.get(mode, "#555")
        line = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in curve)
        body.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body += [f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="3.5" fill="{colour}"/>'
                 f'<text x="{x(a):.1f}" y="{y(b) + (-9 if i == 0 else 16):.1f}" font-size="10" '
                 f'text-anchor="middle" fill="{colour}">{b:.3f}</text>' for a, b in curve]
        body.append(f'<text x="{pad + 8}" y="{pad / 2 + 14 * i}" font-size="11" fill="{colour}">'
                    f'— {LEGEND.get(mode, mode)}</text>')
    ticks = "".join(f'<text x="{x(a):.1f}" y="{h - pad + 16}" font-size="11" text-anchor="middle">{a}</text>'
                    for a in sorted(set(xs)))
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif">'
        f'<rect width="100%" height="100%" fill="#fff"/>'
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#999"/>'
        f'<line x1="{pad}" y1="{pad / 2}" x2="{pad}" y2="{h - pad}" stroke="#999"/>'
        f'{"".join(body)}{ticks}'
        f'<text x="{w / 2}" y="{h - 6}" font-size="12" text-anchor="middle">real messages seen by staff</text>'
        f'<text x="12" y="{h / 2}" font-size="12" transform="rotate(-90 12 {h / 2})" text-anchor="middle">'
        f'mean macro-F1 on the other half</text></svg>\n', encoding="utf-8")


MODES = {
    "all": "every message of the share, with its label (corrections and confirmations)",
    "wrong": "only the messages of the share the shipped model got wrong, corrected",
}


def run_curve(rows: list[dict], current: Model, base: list[Example], mode: str) -> list[list[tuple]]:
    """Per run, per step: (messages seen, corrections fed, accuracy, macro-F1, seconds, promoted)."""
    labels = list(current.taxonomy.codes)
    runs = []
    for seed in range(SPLITS):
        first, second = halves(rows, seed)
        for feed_half, test_half in ((first, second), (second, first)):
            truth = [r["label"] for r in test_half]
            shipped = [p.category for p in current.predict([r["text"] for r in feed_half])]
            run = []
            for n in STEPS:
                seen = feed_half[:n]
                if mode == "wrong":
                    seen = [r for r, guess in zip(seen, shipped) if guess != r["label"]]
                feed = [Example(r["text"], r["label"]) for r in seen]
                start = time.perf_counter()
                result = retrain(base, feed, current, gate=Gate()) if feed else None
                seconds = time.perf_counter() - start
                model = result.candidate if result else current
                guessed = [p.category for p in model.predict([x["text"] for x in test_half])]
                r = evaluate_predictions(truth, guessed, labels)
                promoted = result.promoted if result else None
                run.append((min(n, len(feed_half)), len(feed), r["accuracy"], r["macro_f1"], seconds, promoted))
            runs.append(run)
            print(f"{mode}, split {seed}, run {len(runs)}: " + ", ".join(f"{x[1]}→{x[3]:.3f}" for x in run), flush=True)
    return runs


def table_for(mode: str, runs: list[list[tuple]]) -> tuple[list[str], list[tuple[int, float]], str]:
    mean = lambda xs: sum(xs) / len(xs)
    lines, points = [], []
    for i in range(len(STEPS)):
        step = [run[i] for run in runs]
        f1s = [x[3] for x in step]
        decided = [x[5] for x in step if x[5] is not None]
        gate = f"{sum(decided)} of {len(decided)}" if decided else "—"
        points.append((step[0][0], mean(f1s)))
        lines.append(f"| {step[0][0]} | {mean([x[1] for x in step]):.1f} | {mean([x[2] for x in step]):.3f} | "
                     f"{mean(f1s):.3f} | {min(f1s):.3f}–{max(f1s):.3f} | {gate} | {mean([x[4] for x in step]):.1f} s |")
    gains = [run[-1][3] - run[0][3] for run in runs]
    summary = (f"From 0 to {points[-1][0]} messages seen: {(points[-1][1] - points[0][1]) * 100:+.1f} points of "
               f"macro-F1 on average (per run {min(gains) * 100:+.1f} to {max(gains) * 100:+.1f}; target +5).")
    return lines, points, summary


SWEEP = ((3.0, 0.25), (10.0, 0.25), (30.0, 0.25), (3.0, 0.0), (10.0, 0.0), (30.0, 0.0))


def sweep(rows: list[dict], current: Model, base: list[Example]) -> str:
    """Gain at the last step (a whole half seen) per feeding mode, correction weight and held-out share."""
    labels = list(current.taxonomy.codes)
    lines = []
    for mode in MODES:
        for weight, share in SWEEP:
            gains = []
            for seed in range(SPLITS):
                first, second = halves(rows, seed)
                for feed_half, test_half in ((first, second), (second, first)):
                    truth = [r["label"] for r in test_half]
                    score = lambda model: evaluate_predictions(
                        truth, [p.category for p in model.predict([r["text"] for r in test_half])], labels)["macro_f1"]
                    seen = feed_half
                    if mode == "wrong":
                        guesses = [p.category for p in current.predict([r["text"] for r in feed_half])]
                        seen = [r for r, g in zip(feed_half, guesses) if g != r["label"]]
                    gate = Gate(correction_weight=weight, correction_eval_share=share)
                    result = retrain(base, [Example(r["text"], r["label"]) for r in seen], current, gate=gate)
                    gains.append(score(result.candidate) - score(current))
            mean = sum(gains) / len(gains)
            lines.append(f"| {mode} | {weight:g} | {'a quarter held out' if share else 'all trained on'} | "
                         f"{mean * 100:+.1f} | {min(gains) * 100:+.1f} to {max(gains) * 100:+.1f} |")
            print(lines[-1], flush=True)
    return "\n".join([
        f"Measured {dt.date.today()} on {machine()} by `bench/learning_curve.py --sweep`: gain in macro-F1 on "
        f"the other half after a whole half was seen, mean of {2 * SPLITS} runs.", "",
        "| fed | correction weight | corrections the candidate trains on | mean gain (points) | per run |",
        "|---|---|---|---|---|", *lines, ""])


def neighbours(rows: list[dict], current: Model) -> str:
    """How much one half can teach the other by likeness alone: test messages with a close neighbour among
    the fed half (cosine of the model's own TF-IDF features), and whether that neighbour's label is right."""
    import numpy as np

    from triage.normalize import normalize

    x = current.engine.features([normalize(r["text"]) for r in rows]).toarray()
    x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-12
    at = {r["text"]: i for i, r in enumerate(rows)}
    counts = {0.3: [0, 0], 0.5: [0, 0]}
    tested = 0
    for seed in range(SPLITS):
        first, second = halves(rows, seed)
        for feed_half, test_half in ((first, second), (second, first)):
            fed, test = [at[r["text"]] for r in feed_half], [at[r["text"]] for r in test_half]
            sims = x[test] @ x[fed].T
            tested += len(test)
            for k, i in enumerate(test):
                j = int(sims[k].argmax())
                for t in counts:
                    if sims[k, j] >= t:
                        counts[t][0] += 1
                        counts[t][1] += rows[fed[j]]["label"] == rows[i]["label"]
    said = "; ".join(f"cosine ≥ {t}: {n} ({right} with the same label)" for t, (n, right) in counts.items())
    return (f"Why the gain is small: of the {tested} measured messages (all runs), those with a near neighbour "
            f"among the fed half: {said}. The two halves share almost no near-duplicates, so a correction "
            f"can only help other letters through what it teaches in general.")


def _put(marker: str, table: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if f"<!-- {marker}:start -->" in text:
        head, rest = text.split(f"<!-- {marker}:start -->", 1)
        _, tail = rest.split(f"<!-- {marker}:end -->", 1)
        readme.write_text(f"{head}<!-- {marker}:start -->\n{table}<!-- {marker}:end -->{tail}", encoding="utf-8")


def main() -> int:
    path = SHARED / "real_dev.jsonl"
    if not path.is_file():
        print("skipped: ../shared/data/real_dev.jsonl absent")
        return 0
    current = Model.load()
    rows = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
    base = load_examples(default_training_files(), current.taxonomy)
    if "--sweep" in sys.argv[1:]:
        _put("sweep", sweep(rows, current, base))
        return 0
    parts = [f"Measured {dt.date.today()} on {machine()} by `bench/learning_curve.py`: real_dev ({len(rows)} "
             f"messages) halved {SPLITS} ways; each half in turn is the staff's share, the other half is "
             f"measured; every figure is the mean of {2 * SPLITS} runs. “promoted” counts the runs in which "
             f"the gate accepted the candidate (the table measures the candidate either way).", ""]
    curves = {}
    for mode, what in MODES.items():
        lines, points, summary = table_for(mode, run_curve(rows, current, base, mode))
        curves[mode] = points
        parts += [f"**Fed: {what}.**", "",
                  "| messages seen | corrections fed | accuracy (other half) | macro-F1 (other half) | "
                  "macro-F1 range | promoted | retrain time |", "|---|---|---|---|---|---|---|",
                  *lines, "", summary, ""]
    parts += [neighbours(rows, current), ""]
    table = "\n".join(parts)
    (ROOT / "bench" / "learning_curve.md").write_text(table, encoding="utf-8")
    _put("curve", table)
    svg(curves, ROOT / "bench" / "learning_curve.svg")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
