"""Admin endpoints: model information (retraining and versions arrive with the registry)."""

from __future__ import annotations

from fastapi import APIRouter

from .deps import Admin, ModelDep

router = APIRouter(prefix="/api/admin", tags=["管理 admin"])


@router.get("/model")
def model_card(model: ModelDep, caller: Admin) -> dict:
    """The active model's card: version, labels, data hash, metrics, library versions."""
    return model.card
