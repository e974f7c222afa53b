"""The service under concurrent classify / extract / write traffic for a bounded time:
no 5xx, no lost write, nothing failed with 'database is locked'."""

import concurrent.futures as cf
import random
import threading
import time

import httpx
import pytest

from .conftest import ROOT, live_server

pytestmark = pytest.mark.slow
NOTES = (ROOT / "tests" / "notes" / "02_mixed_style.txt").read_text(encoding="utf-8")
TEXTS = ["3号楼电梯坏了两天", "楼道里有人飞线充电", "东门车棚漏雨", "楼上邻居半夜跺脚", "小区垃圾没人清运", "谢谢物业"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("load") / "data", "staff", "load") as running:
        yield running


def test_mixed_traffic_for_ten_seconds(server):
    base, token, settings = server
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 10
    saved, statuses = [], []
    lock = threading.Lock()

    def client(n: int) -> None:
        rng = random.Random(n)
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            while time.monotonic() < deadline:
                kind = rng.choice(["classify", "classify", "extract", "save", "status"])
                if kind == "classify":
                    r = http.post("/api/classify", json={"text": rng.choice(TEXTS)})
                elif kind == "extract":
                    r = http.post("/api/extract", json={"text": NOTES})
                elif kind == "save":
                    r = http.post("/api/classify", json={"text": f"{rng.choice(TEXTS)}（客户端{n}）", "save": True})
                    if r.status_code == 200:
                        with lock:
                            saved.append(r.json()["entry_id"])
                else:
                    with lock:
                        target = rng.choice(saved) if saved else None
                    if target is None:
                        continue
                    r = http.post(f"/api/entries/{target}/status", json={"status": "已派单"})
                with lock:
                    statuses.append(r.status_code)

    with cf.ThreadPoolExecutor(8) as pool:
        list(pool.map(client, range(8)))
    assert statuses and all(code < 500 for code in statuses), sorted(set(statuses))
    assert set(statuses) <= {200, 409}  # 409: a second client moved the same entry first
    from service.store import Store

    with Store(settings.database) as store:
        ids = {r["id"] for r in store.db.query("SELECT id FROM entries")}
        twice = list(store.db.query("SELECT text_key FROM entries GROUP BY text_key HAVING count(*) > 1"))
    # a text saved again (by the same or another client, at the same moment) keeps its one entry
    assert set(saved) <= ids and not twice
