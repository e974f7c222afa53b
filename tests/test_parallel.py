"""`triage tag --workers N` and `--engine dask` give the same rows as one process."""

import json

import pytest

from triage.cli import main

from .test_cli import RECEIVED, TICKETS


def _tickets(tmp_path, n=120):
    src = tmp_path / "tickets.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": i, "text": f"{TICKETS[i % 3]}（第{i}件）"}, ensure_ascii=False) + "\n")
    return src


def _read(path):
    return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines()]


def test_workers_match_single_process(tmp_path, capsys):
    src = _tickets(tmp_path)
    assert main(["tag", str(src), "-o", str(tmp_path / "one.jsonl"), "--received-at", RECEIVED]) == 0
    assert main(["tag", str(src), "-o", str(tmp_path / "two.jsonl"), "--received-at", RECEIVED, "--workers", "2"]) == 0
    one, two = _read(tmp_path / "one.jsonl"), _read(tmp_path / "two.jsonl")
    assert one == two and [r["id"] for r in two] == list(range(120))


@pytest.mark.slow
def test_dask_local_cluster_matches_single_process(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    src = tmp_path / "tickets.csv"
    rows = _read(_tickets(tmp_path, 300))
    src.write_bytes(("id,text\n" + "".join(f"{r['id']},{r['text']}\n" for r in rows)).encode("gbk"))
    assert main(["tag", str(src), "-o", str(tmp_path / "one.jsonl"), "--received-at", RECEIVED]) == 0
    assert main(["tag", str(src), "-o", str(tmp_path / "dask.csv"), "--received-at", RECEIVED,
                 "--engine", "dask", "--workers", "2"]) == 0
    import csv

    with (tmp_path / "dask.csv").open(encoding="utf-8-sig") as fh:
        dask_rows = list(csv.DictReader(fh))
    one = _read(tmp_path / "one.jsonl")
    assert len(dask_rows) == 300
    assert [r["category"] for r in dask_rows] == [r["category"] for r in one]
    assert [r["deadline"] for r in dask_rows] == [r["deadline"] or "" for r in one]  # CSV has no null


def test_dask_reads_the_received_time_column(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    src = tmp_path / "tickets.csv"
    times = ["2026/11/3 9:15", "2026年11月4日 16:20", "2026-11-05 08:00:00"]
    lines = [f"{i},{TICKETS[i % 3]},{times[i % 3]}" for i in range(30)]
    src.write_text("工单编号,诉求内容,受理时间\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert main(["tag", str(src), "-o", str(tmp_path / "one.jsonl")]) == 0
    assert main(["tag", str(src), "-o", str(tmp_path / "dask.csv"), "--engine", "dask", "--workers", "1"]) == 0
    import csv

    with (tmp_path / "dask.csv").open(encoding="utf-8-sig") as fh:
        dask_rows = list(csv.DictReader(fh))
    one = _read(tmp_path / "one.jsonl")
    assert [r["deadline"] for r in dask_rows] == [r["deadline"] or "" for r in one]  # CSV has no null
    assert one[0]["deadline"].startswith("2026-11-") and one[0]["deadline"] < "2026-11-20"  # not from today
