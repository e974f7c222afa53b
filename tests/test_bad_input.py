"""Bad input everywhere: a clear 4xx or CLI error in Chinese, and nothing half-written."""

import json

import pytest

from triage.cli import main

TEN_MB = "电梯坏了" * (10 * 1024 * 1024 // 12)


def _count(client):
    return client.get("/api/entries", headers=client.hdr()).json()["total"]


def test_ten_megabytes_of_text_is_refused_cleanly(client):
    for path in ("/api/classify", "/api/extract"):
        r = client.post(path, json={"text": TEN_MB, "save": True}, headers=client.hdr())
        assert r.status_code == 413 and "太长" in r.json()["detail"]
    assert _count(client) == 0


@pytest.mark.parametrize("text", ["😡😡😡👍", "<script>alert(1)</script><b>电梯</b>坏了",
                                  "'; DROP TABLE entries; --", "电梯坏了\x00\x01\x02", "   \u200b\u200b  电梯"])
def test_odd_text_is_answered_and_stored_verbatim(client, text):
    r = client.post("/api/classify", json={"text": text, "save": True}, headers=client.hdr())
    assert r.status_code == 200
    entry = client.get(f"/api/entries/{r.json()['entry_id']}", headers=client.hdr()).json()
    assert entry["text"] == text  # stored as given: parameters, never SQL built from strings
    assert client.get("/api/entries", params={"q": "DROP TABLE"}, headers=client.hdr()).status_code == 200


def test_emoji_only_text_is_flagged_for_review(client):
    r = client.post("/api/classify", json={"text": "😡😡😡"}, headers=client.hdr()).json()
    assert r["needs_review"] is True


def test_upload_of_a_ten_megabyte_binary_is_refused_and_nothing_saved(client):
    blob = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    r = client.post("/api/jobs", files={"file": ("tickets.csv", blob)}, data={"save": "true"}, headers=client.hdr())
    assert r.status_code == 400 and "二进制" in r.json()["detail"]
    assert _count(client) == 0


def test_utf16_and_gbk_uploads_work(client):
    for encoding in ("utf-16", "gbk"):
        data = "编号,内容\n1,楼道灯坏了\n".encode(encoding)
        r = client.post("/api/jobs", files={"file": (f"t-{encoding}.csv", data)}, headers=client.hdr())
        assert r.status_code == 202, r.text


def test_save_with_an_unknown_category_writes_nothing(client):
    issue = {"summary": "x", "category": "aliens", "category_name": "外星人", "secondary": [], "urgent": False,
             "owner": "x", "co_owners": [], "deadline": None, "location": None, "speakers": [], "mentions": 1,
             "quotes": ["x"], "response": None, "confidence": 0.5, "needs_review": True, "notes": []}
    good = dict(issue, category="pets", category_name="宠物管理")
    r = client.post("/api/entries", json={"issues": [good, issue]}, headers=client.hdr())
    assert r.status_code == 400 and "未知类别" in r.json()["detail"]
    assert _count(client) == 0  # the good one was not saved either


def test_cli_on_a_ten_megabyte_file_and_binary_file(tmp_path, capsys):
    big = tmp_path / "big.txt"
    big.write_text(TEN_MB[:300_000], encoding="utf-8")
    assert main(["extract", str(big), "--received-at", "2026-11-25T09:30+08:00"]) == 0
    json.loads(capsys.readouterr().out)
    binary = tmp_path / "x.txt"
    binary.write_bytes(b"\x00\x01\x02" * 1000)
    assert main(["extract", str(binary)]) == 2
    assert "二进制" in capsys.readouterr().err
