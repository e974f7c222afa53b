"""The FastAPI application: model loaded once at start-up, ledger in SQLite."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sqlite3
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from triage import ModelError, load_taxonomy

from .settings import FIELD_NAMES, Settings
from .store import Store, StoreError

__all__ = ["create_app"]

log = logging.getLogger("triage.service")
STATIC = Path(__file__).parent / "static"


class AccessLog:
    """Pure ASGI access log: method, path, status and time — never the query string (Open311
    clients put api_key there). Cheaper than an @app.middleware("http") wrapper."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            log.info("%s %s %s %.0fms", scope["method"], scope["path"], status["code"],
                     (time.perf_counter() - start) * 1000)




class BodyGuard:
    """Pure ASGI guard for JSON bodies: over `limit` bytes is 413 before anything parses it (a 300 MB body
    cost 900 MB of memory), and a lone surrogate escape ("\\ud800"), which no text can hold, is 400 instead of
    failing later. Multipart uploads are left to their endpoints, which spool them to disk and check sizes."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers") or ()) if scope["type"] == "http" else {}
        if scope["type"] != "http" or b"json" not in headers.get(b"content-type", b"").lower():
            return await self.app(scope, receive, send)
        declared = headers.get(b"content-length", b"0").strip() or b"0"
        if declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(scope, send, 413, f"内容太长（太大）：一次最多 {self.limit // (1024 * 1024)} MB，请分段提交。")
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.limit:
                return await self._refuse(scope, send, 413, f"内容太长（太大）：一次最多 {self.limit // (1024 * 1024)} MB，请分段提交。")
        body = b"".join(chunks)
        if re.search(rb"\\u[dD][89a-fA-F]", body) and _lone_surrogate(body):
            return await self._refuse(scope, send, 400, "内容里有无法识别的字符（可能是复制时带进来的乱码），请删去后再试。")
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope, send, status: int, detail: str):
        if scope["path"].startswith("/open311/"):
            payload = json.dumps([{"code": status, "description": detail}], ensure_ascii=False)
        else:
            payload = json.dumps({"detail": detail}, ensure_ascii=False)
        data = payload.encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})


def _lone_surrogate(body: bytes) -> bool:
    """True when the JSON holds a string with a surrogate that is not part of a pair."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return False  # not JSON: the endpoint says so
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if any(0xD800 <= ord(c) <= 0xDFFF for c in item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _field_named(loc) -> str:
    parts = []
    for p in loc:
        if p in ("body", "query", "path", "form"):
            continue
        parts.append(f"第{p + 1}条" if isinstance(p, int) else FIELD_NAMES.get(str(p), str(p)))
    return "的".join(parts)


def _error(request: Request, detail, status: int, headers=None) -> JSONResponse:
    """{"detail": …}; Open311 clients get GeoReport v2's [{"code", "description"}] instead."""
    if request.url.path.startswith("/open311/"):
        return JSONResponse([{"code": status, "description": str(detail)}], status_code=status, headers=headers)
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _field_message(err: dict) -> str:
    where = _field_named(err.get("loc", ()))
    kind = err.get("type", "")
    if kind == "missing":
        return f"缺少必填项 {where}" if where else "缺少请求内容"
    if kind in ("string_too_long", "too_long"):
        limit = (err.get("ctx") or {}).get("max_length")
        unit = "字" if kind == "string_too_long" else "条"
        return f"{where} 太长" + (f"（最多 {limit} {unit}）" if limit else "")
    if kind == "json_invalid":
        return "请求内容不是有效的 JSON"
    if kind in ("model_attributes_type", "dict_type"):
        return f"{where + ' ' if where else ''}格式不对：应为一个 JSON 对象（{{…}}），例如 {{\"issues\": [...]}}"
    if kind == "value_error":
        return f"{where}：{err.get('ctx', {}).get('error') or err.get('msg', '')}"
    if "datetime" in kind:
        return f"{where} 的时间格式无法识别（例：2026-11-25T09:30:00+08:00）"
    ctx = err.get("ctx", {})
    bounds = {"greater_than_equal": "不能小于 {ge}", "greater_than": "必须大于 {gt}",
              "less_than_equal": "不能大于 {le}", "less_than": "必须小于 {lt}"}
    if kind in bounds:
        return f"{where} {bounds[kind].format(**{k: ctx.get(k) for k in ('ge', 'gt', 'le', 'lt')})}"
    if kind in ("int_parsing", "int_type", "int_from_float", "float_parsing", "float_type"):
        return f"{where} 应填一个数字"
    if kind in ("bool_parsing", "bool_type"):
        return f"{where} 应为“是”或“否”（true/false）"
    if kind in ("string_type", "string_too_short"):
        return f"{where} 应填文字" if kind == "string_type" else f"{where} 不能为空"
    if kind in ("enum", "literal_error"):
        # pydantic says "'yellow', 'red' or 'any'": 只能是：yellow、red、any
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", ""))) or [str(ctx.get("expected", ""))]
        return f"{where} 只能是：{'、'.join(choices)}"
    return f"{where} 的值不正确"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; start-up loads the model and migrates the database."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.jobs_dir.mkdir(parents=True, exist_ok=True)
        from .registry import MemoryCache, ModelHolder, clean_partial, load_active_model

        taxonomy = load_taxonomy(settings.taxonomy_path)
        with Store(settings.database) as store:
            store.migrate()
        clean_partial(settings)
        from .jobs import clean_old

        clean_old(settings, dt.datetime.now())  # tagged files past their keep days, also when nobody uploads
        app.state.models = ModelHolder(load_active_model(settings, taxonomy), settings)
        app.state.memory = MemoryCache(settings)
        log.info("模型 %s 已加载，数据库 %s", app.state.models.current.version, settings.database)
        yield

    app = FastAPI(title="triage 社区问题分拣助手", version="0.1.0", lifespan=lifespan,
                  description="居民诉求分类、派单、办理时限、会议纪要提取、问题台账。写操作需要访问令牌。")
    app.state.settings = settings

    # a JSON body holds at most the notes limit, escaped (\uXXXX is 6 bytes a character), and some fields
    app.add_middleware(BodyGuard, limit=max(4 * 1024 * 1024, 8 * settings.max_notes_chars))
    app.add_middleware(AccessLog)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError):
        return _error(request, str(exc), exc.status)

    @app.exception_handler(ModelError)
    async def model_error(request: Request, exc: ModelError):
        return _error(request, str(exc), 409)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        messages = [_field_message(e) for e in exc.errors()]
        return _error(request, "请求有误：" + "；".join(dict.fromkeys(messages)), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = "找不到这个地址。"
        elif exc.status_code == 405:
            detail = "不支持这种请求方式。"
        elif exc.status_code == 400 and detail == "There was an error parsing the body":
            detail = "请求内容无法解析：请发送 UTF-8 编码的 JSON 或表单。"
        return _error(request, detail, exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(sqlite3.OperationalError)
    async def database_busy(request: Request, exc: sqlite3.OperationalError):
        if "locked" not in str(exc) and "busy" not in str(exc):
            return await unexpected(request, exc)
        # another program (a backup, a second server) holds the database longer than the busy timeout:
        # nothing was written, and the page keeps what it had (an admin trial saw a bare 500 here)
        log.warning("数据库被占用 %s %s", request.method, request.url.path)
        return _error(request, "数据库正被其他程序占用（例如正在备份），这次没有保存任何内容。"
                               "本页的内容都还在，请稍等一分钟再试一次；一直如此请联系管理员。", 503, {"Retry-After": "60"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("未处理的错误 %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "服务器内部错误，请稍后再试或联系管理员。"}, status_code=500)

    from . import routes_admin, routes_ledger, routes_open311, routes_triage

    app.include_router(routes_triage.router)
    app.include_router(routes_ledger.router)
    app.include_router(routes_open311.router)
    app.include_router(routes_admin.router)

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def openapi() -> dict:
        # Our 422 body is {"detail": "<一句中文>"}, not FastAPI's list of errors: say so in the schema.
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {})["HTTPValidationError"] = {
                "title": "HTTPValidationError", "type": "object", "required": ["detail"],
                "properties": {"detail": {"type": "string", "title": "Detail", "description": "中文错误说明"}}}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
    return app
