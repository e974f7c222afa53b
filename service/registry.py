"""Which model the service runs: the registry's active version, else the shipped one."""

from __future__ import annotations

from pathlib import Path

from triage import Model, Taxonomy, default_model_dir

from .settings import Settings
from .store import Store

__all__ = ["load_active_model"]


def load_active_model(settings: Settings, taxonomy: Taxonomy) -> Model:
    """Load the active registered model (checked by hash), falling back to the shipped one."""
    with Store(settings.database) as store:
        row = next(store.db.query("SELECT path FROM models WHERE status = 'active' LIMIT 1"), None)
    if row and Path(row["path"]).is_dir():
        return Model.load(row["path"], taxonomy)
    return Model.load(settings.model_dir or default_model_dir(), taxonomy)
