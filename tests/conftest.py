import contextlib
import dataclasses
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from triage import Model

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TZ = ZoneInfo("Asia/Shanghai")
# A fixed clock for every test: Wednesday 2026-11-25 09:30 in Beijing.
NOW = dt.datetime(2026, 11, 25, 9, 30, tzinfo=TZ)


@pytest.fixture(scope="session")
def model() -> Model:
    return Model.load()


@pytest.fixture()
def settings(tmp_path):
    from service.settings import Settings

    return dataclasses.replace(Settings(), data_dir=tmp_path / "data", model_dir=None, taxonomy_path=None)


@pytest.fixture()
def app(settings):
    from service.app import create_app

    return create_app(settings)


@pytest.fixture()
def client(app, settings):
    from fastapi.testclient import TestClient

    from service.store import Store

    with TestClient(app) as c:
        with Store(settings.database) as store:
            c.tokens = {role: store.create_token(role, f"测试{role}") for role in ("viewer", "staff", "admin")}
        c.hdr = lambda role="staff": {"Authorization": f"Bearer {c.tokens[role]}"}
        yield c


@contextlib.contextmanager
def live_server(data_dir, role: str = "admin", name: str = "测试"):
    """The real app under uvicorn on a free loopback port, in a thread: (base URL, token, settings)."""
    import socket
    import threading
    import time

    import uvicorn

    from service.app import create_app
    from service.settings import Settings
    from service.store import Store

    settings = dataclasses.replace(Settings(), data_dir=Path(data_dir), model_dir=None, taxonomy_path=None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        time.sleep(0.05)
    with Store(settings.database) as store:
        token = store.create_token(role, name)
    try:
        yield f"http://127.0.0.1:{port}", token, settings
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_job(client, job_id: str) -> dict:
    """Poll /api/jobs/{id} until the job is no longer running (10 s at most)."""
    import time

    for _ in range(200):
        job = client.get(f"/api/jobs/{job_id}", headers=client.hdr("viewer")).json()
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("job did not finish")
