"""Open311 GeoReport v2 (JSON) so other systems can file and read requests.

Mapping: category → service_code, owner → agency_responsible, deadline → expected_datetime,
status → open/closed with our finer 办理状态 in status_notes.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from pydantic import BaseModel

from triage.places import find_places

from .convert import entry_from_result, local, received_between, utc
from .schemas import ReceivedAt
from .deps import EntryId, ModelDep, Staff, StoreDep, Viewer
from .store import CLOSED

class Open311Error(BaseModel):
    """GeoReport v2 error: a list of these is the body of every 4xx answer under /open311."""

    code: int
    description: str


_ERRORS = {status: {"model": list[Open311Error], "description": what}
           for status, what in ((400, "请求有误"), (401, "需要访问令牌"), (403, "权限不足"), (404, "找不到"), (422, "参数有误"))}
router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"], responses=_ERRORS)


def _request(entry: dict, tz: str) -> dict:
    return {
        "service_request_id": str(entry["id"]),
        "status": "closed" if entry["status"] in CLOSED else "open",
        "status_notes": entry["status"] + (f"；{entry['response']}" if entry.get("response") else ""),
        "service_name": entry.get("category_name"),
        "service_code": entry["category"],
        "description": entry["text"],
        "agency_responsible": entry.get("owner"),
        "service_notice": "紧急：24小时内处理" if entry.get("urgent") else None,
        "requested_datetime": local(entry.get("received_at"), tz),
        "updated_datetime": local(entry.get("updated"), tz),
        "expected_datetime": local(entry.get("deadline"), tz),
        "address": entry.get("address") or entry.get("location"),
        "address_id": None, "zipcode": None, "lat": None, "long": None, "media_url": None,
    }


@router.get("/services.json")
def services(model: ModelDep, caller: Viewer) -> list[dict]:
    """Our categories as Open311 services."""
    return [{"service_code": c.code, "service_name": c.name, "description": c.description or c.name,
             "metadata": False, "type": "realtime", "keywords": "", "group": model.taxonomy.name}
            for c in model.taxonomy.categories]


def _service(code: str, model) -> str:
    """A service_code as our code; staff and other systems may send the Chinese name (绿化养护)."""
    try:
        return model.taxonomy.resolve(code).code
    except KeyError:
        raise HTTPException(400, f"未知的 service_code“{code}”，可用：{'、'.join(f'{c.code}（{c.name}）' for c in model.taxonomy.categories)}") from None


@router.post("/requests.json", status_code=201)
def create_request(request: Request, model: ModelDep, store: StoreDep, caller: Staff,
                   description: Annotated[str, Form(max_length=5000)],
                   service_code: Annotated[str | None, Form()] = None,
                   address_string: Annotated[str | None, Form(max_length=300)] = None,
                   requested_datetime: Annotated[ReceivedAt | None, Form()] = None) -> list[dict]:
    """File a request; without service_code our classifier picks the category."""
    if not description.strip():
        raise HTTPException(400, "description 为空。")
    received = requested_datetime or dt.datetime.now().astimezone()
    result = model.classify(description, received, request.app.state.memory.get(model))  # corrections apply
    entry = entry_from_result(result, received, "open311")
    if service_code:
        service_code = _service(service_code, model)
        if service_code != result.category:
            from triage.normalize import normalize
            from triage.route import route

            routing = route(service_code, normalize(description), received, model.taxonomy)
            entry.update(category=service_code, category_name=model.taxonomy.get(service_code).name,
                         owner=routing.owner, co_owners=routing.co_owners, urgent=routing.urgent,
                         deadline=utc(routing.deadline), needs_review=False)
    entry["address"] = address_string
    entry["location"] = "、".join(find_places(description)[:2]) or (address_string or None)
    entry_id = store.add_entries([entry], caller.name, community=caller.community)[0]
    saved = store.get_entry(entry_id)
    return [{"service_request_id": str(entry_id), "service_notice": _request(saved, model.taxonomy.timezone)["service_notice"],
             "account_id": None}]


@router.get("/requests.json")
def list_requests(model: ModelDep, store: StoreDep, caller: Viewer, service_request_id: str | None = None,
                  service_code: str | None = None, start_date: dt.datetime | None = None,
                  end_date: dt.datetime | None = None, status: str | None = None) -> list[dict]:
    """Requests, newest first (at most 1000), filtered as GeoReport v2 describes."""
    clauses, params = [], []
    if service_request_id:
        ids = [int(i) for i in service_request_id.split(",") if i.strip().isdigit() and len(i.strip()) <= 15]
        if not ids:
            return []
        clauses.append(f"id IN ({','.join('?' * len(ids))})")
        params += ids
    if service_code:
        clauses.append("category = ?")
        params.append(_service(service_code, model))
    more, values = received_between(start_date, end_date)
    clauses += more
    params += values
    if status in ("open", "closed"):
        clauses.append(f"status {'' if status == 'closed' else 'NOT '}IN ({','.join('?' * len(CLOSED))})")
        params += list(CLOSED)
    elif status:
        raise HTTPException(400, "status 只能是 open 或 closed。")
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = store.db.query(f"SELECT * FROM entries{where} ORDER BY id DESC LIMIT 1000", params)
    return [_request(store.decode(r), model.taxonomy.timezone) for r in rows]


@router.get("/requests/{request_id}.json")
def get_request(request_id: EntryId, model: ModelDep, store: StoreDep, caller: Viewer) -> list[dict]:
    """One request (GeoReport returns a one-element list)."""
    return [_request(store.get_entry(request_id), model.taxonomy.timezone)]
