"""Many writers on one SQLite file: every write lands, none fails with 'database is locked'."""

import multiprocessing as mp

from service.store import Store

WRITERS, WRITES = 8, 200


def _writer(path: str, n: int) -> int:
    done = 0
    with Store(path) as store:
        for i in range(WRITES):
            # one building, a different room each: distinct problems, never taken for repeats of each other
            entry_id = store.add_entries([{"text": f"写入者{n}第{i}条：3号楼{n * WRITES + i + 1}室门口的灯坏了",
                                           "category": "facilities",
                                           "source": "test"}], who=f"w{n}")[0]
            if i % 20 == 0:  # mix in status changes so writers contend on existing rows too
                store.set_status(entry_id, "已派单", who=f"w{n}")
            done += 1
    return done


def test_eight_processes_two_hundred_writes_each(tmp_path):
    path = str(tmp_path / "ledger.db")
    with Store(path) as store:
        store.migrate()
    ctx = mp.get_context("spawn")
    with ctx.Pool(WRITERS) as pool:
        counts = pool.starmap(_writer, [(path, n) for n in range(WRITERS)])
    assert counts == [WRITES] * WRITERS
    with Store(path) as store:
        assert next(store.db.query("SELECT count(*) AS n FROM entries"))["n"] == WRITERS * WRITES
        assert next(store.db.query("SELECT count(DISTINCT text) AS n FROM entries"))["n"] == WRITERS * WRITES
        moved = next(store.db.query("SELECT count(*) AS n FROM entries WHERE status = '已派单'"))["n"]
        assert moved == WRITERS * (WRITES // 20)
        history = next(store.db.query("SELECT count(*) AS n FROM history"))["n"]
        assert history == WRITERS * WRITES + moved


def test_every_migration_runs(tmp_path):
    """SCHEMA_VERSION is the last migration: one written and not counted would never run on a user's ledger."""
    from service.store import MIGRATIONS, SCHEMA_VERSION, Store

    assert SCHEMA_VERSION == max(MIGRATIONS) and sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION + 1))
    with Store(tmp_path / "l.db") as store:
        assert store.migrate() == SCHEMA_VERSION
        assert "saved_past" in store.db["jobs"].columns_dict
