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
