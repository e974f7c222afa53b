"""Kill the process mid-retrain and mid-write: the database and the active model stay intact."""

import os
import signal
import subprocess
import sys
import time

from service.store import Store

from .conftest import ROOT

CLI = [sys.executable, "-m", "triage.cli"]


def _env(tmp_path):
    return {**os.environ, "TRIAGE_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}


def test_kill_during_retrain_leaves_everything_as_it_was(tmp_path):
    env = _env(tmp_path)
    subprocess.run([*CLI, "models", "list"], env=env, check=True, capture_output=True, cwd=ROOT)
    db = tmp_path / "data" / "triage.db"
    with Store(db) as store:
        before = list(store.db.query("SELECT version, status FROM models"))
        store.import_labelled([("楼道里堆满了纸箱子，过不去人", "safety")], "测试")  # something to learn
    proc = subprocess.Popen([*CLI, "retrain"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(4)  # inside training (it takes ~15 s on the full data)
    assert proc.poll() is None, proc.stderr.read().decode()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Store(db) as store:
        assert list(store.db.query("SELECT version, status FROM models")) == before
        assert next(store.db.query("PRAGMA integrity_check"))["integrity_check"] == "ok"
    versions = [p.name for p in (tmp_path / "data" / "models").glob("v*")] if (tmp_path / "data" / "models").exists() else []
    assert versions == []
    out = subprocess.run([*CLI, "models", "list"], env=env, check=True, capture_output=True, text=True, cwd=ROOT)
    assert "\tactive\t" in out.stdout


WRITER = """
import sys
from service.store import Store
with Store(sys.argv[1]) as store:
    for i in range(100000):
        store.add_entries([{"text": f"第{i}条", "category": "facilities", "source": "t"}, 
                           {"text": f"第{i}条之二", "category": "facilities", "source": "t"}], who="w")
        print(i, flush=True)
"""


def test_kill_mid_write_loses_no_committed_row_and_leaves_no_half_batch(tmp_path):
    db = tmp_path / "ledger.db"
    with Store(db) as store:
        store.migrate()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], cwd=ROOT, env=_env(tmp_path),
                            stdout=subprocess.PIPE, text=True)
    last = None
    for _ in range(300):
        last = proc.stdout.readline().strip()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    committed = int(last) + 1
    with Store(db) as store:
        n = next(store.db.query("SELECT count(*) AS n FROM entries"))["n"]
        assert n % 2 == 0 and n >= 2 * committed  # whole batches only, none lost
        assert next(store.db.query("PRAGMA integrity_check"))["integrity_check"] == "ok"
        history = next(store.db.query("SELECT count(*) AS n FROM history"))["n"]
        assert history == n
