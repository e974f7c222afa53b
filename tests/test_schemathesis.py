"""Schemathesis against the service's own OpenAPI schema, over real HTTP on loopback:
no 5xx for any generated input, and every documented response matches its schema."""

import dataclasses
import socket
import threading
import time

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

pytestmark = pytest.mark.slow


def _start():
    import tempfile
    from pathlib import Path

    import uvicorn

    from service.app import create_app
    from service.settings import Settings
    from service.store import Store

    data = Path(tempfile.mkdtemp()) / "data"
    settings_ = dataclasses.replace(Settings(), data_dir=data, model_dir=None, taxonomy_path=None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings_), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    for _ in range(400):
        if server.started:
            break
        time.sleep(0.05)
    with Store(settings_.database) as store:
        token = store.create_token("admin", "schemathesis")
    return f"http://127.0.0.1:{port}", token


BASE, TOKEN = _start()
schema = schemathesis.openapi.from_url(f"{BASE}/openapi.json")


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_schema(case):
    if case.path == "/api/admin/retrain":
        pytest.skip("retraining is exercised in test_learning; here it would only repeat for minutes")
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60,
                           checks=[not_a_server_error, response_schema_conformance])
