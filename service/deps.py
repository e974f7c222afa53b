"""Request dependencies: the ledger connection, the current model, and token roles."""

from __future__ import annotations

from typing import Annotated, Iterator

from fastapi import Depends, Header, HTTPException, Path, Query, Request

from triage import Model

from .store import ROLES, Store

__all__ = ["Caller", "ModelDep", "StoreDep", "require"]


def get_store(request: Request) -> Iterator[Store]:
    """One connection per request: sqlite3 connections must not cross threads."""
    store = Store(request.app.state.settings.database)
    try:
        yield store
    finally:
        store.close()


def get_model(request: Request) -> Model:
    """The active model, read once per request so a hot swap never mixes two models."""
    return request.app.state.models.current


StoreDep = Annotated[Store, Depends(get_store)]
ModelDep = Annotated[Model, Depends(get_model)]


class Caller:
    """Who is calling, from their token."""

    def __init__(self, role: str, name: str):
        self.role, self.name = role, name


def require(role: str):
    """A dependency that lets through tokens of `role` or higher (viewer < staff < admin)."""

    def check(request: Request, store: StoreDep,
              authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
              x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
              api_key: Annotated[str | None, Query(include_in_schema=False)] = None) -> Caller:
        token = None
        if authorization and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        token = token or x_api_key or api_key
        if not token:
            raise HTTPException(401, "请先登录：需要访问令牌（Authorization: Bearer <令牌>）。")
        found = store.token_role(token)
        if found is None:
            raise HTTPException(401, "访问令牌无效或已停用，请向管理员重新申请。")
        have, name = found
        if ROLES.index(have) < ROLES.index(role):
            names = {"viewer": "查看", "staff": "办理", "admin": "管理"}
            raise HTTPException(403, f"权限不足：此操作需要“{names[role]}”权限，您的令牌是“{names[have]}”权限。")
        return Caller(have, name)

    return check


Viewer = Annotated[Caller, Depends(require("viewer"))]
Staff = Annotated[Caller, Depends(require("staff"))]
Admin = Annotated[Caller, Depends(require("admin"))]


# Ledger ids are SQLite integers: bound them so a huge number is a 422, not an overflow.
EntryId = Annotated[int, Path(ge=1, le=2**53, description="台账编号")]
