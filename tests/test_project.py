"""Project consistency: layering, README commands, shipped model freshness, training data rules."""

import json
import subprocess
import sys
from collections import Counter

import pytest

from triage.examples import data_hash, default_training_files, load_examples
from triage.taxonomy import load_taxonomy

from .conftest import ROOT, SHARED


def test_library_does_not_import_web_or_database_code():
    code = "import sys, triage, triage.notes, triage.ledger; print(sorted(m for m in ('fastapi', 'sqlite_utils', 'service') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_readme_starts_with_the_two_commands():
    lines = [l for l in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if l.strip()]
    commands = [l.strip() for l in lines[:6] if l.startswith("    ")]
    assert commands == ["bash scripts/serve.sh", "bash scripts/test.sh"]
    assert "triage serve" in (ROOT / "scripts" / "serve.sh").read_text(encoding="utf-8")
    assert "pytest" in (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")


def test_ci_calls_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test.sh" in ci and "scripts/test.sh" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_training_data_follows_the_taxonomy():
    taxonomy = load_taxonomy()
    examples = load_examples(default_training_files(), taxonomy)
    counts = Counter(e.label for e in examples)
    assert len(examples) >= 3000
    assert all(counts[c] >= 250 for c in taxonomy.codes), counts
    assert counts.most_common(1)[0][0] == "other"
    texts = [e.text for e in examples]
    assert len(set(texts)) == len(texts), "duplicate training texts"
    for e in examples:
        assert all(s in taxonomy.codes for s in e.secondary), e.source


@pytest.mark.skipif(not (SHARED / "data").is_dir(), reason="shared/data not beside the checkout")
def test_no_measuring_data_leaked_into_training_data_or_tests():
    held = set()
    for path in [SHARED / "data" / "real_dev.jsonl", *sorted((SHARED / "data" / "teddy2020c").glob("*.jsonl"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["text"].strip()
            held.update(text[i:i + 30] for i in range(0, max(1, len(text) - 30), 15))
    ours = [e.text for e in load_examples(default_training_files())]
    ours += [p.read_text(encoding="utf-8") for p in (ROOT / "tests" / "notes").glob("*.txt")]
    leaked = [t[:40] for t in ours if any(t[i:i + 30] in held for i in range(0, max(1, len(t) - 30)))]
    assert not leaked


def test_shipped_model_is_trained_on_the_current_data():
    from triage import Model

    model = Model.load()
    examples = load_examples(default_training_files(), load_taxonomy())
    assert model.card["data_sha256"] == data_hash(examples), "training_data changed: run `triage train`"
    assert model.roles is not None


def test_the_benchmark_sets_are_not_in_the_training_data():
    """bench/*.jsonl measure the model on text it has never seen: none of their messages may be trained on."""
    from triage.normalize import normalize

    trained = {normalize(e.text) for e in load_examples(default_training_files())}
    for path in sorted((ROOT / "bench").glob("*.jsonl")):
        texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        # a two-character reply such as "收到" may be in both; a message is not
        assert texts and not [t[:30] for t in texts if len(t) >= 8 and normalize(t) in trained], path.name
