"""Service settings, read in one place from the environment (with CLI overrides)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ROLES", "Settings"]

ROLES = ("viewer", "staff", "admin")  # token roles, weakest first
ROLE_NAMES = {"viewer": "查看", "staff": "办理", "admin": "管理"}  # as staff read them
# Field names as staff know them: in error messages and in the exported 办理记录.
FIELD_NAMES = {
    "text": "内容", "note": "备注", "status": "状态", "satisfaction": "满意度", "feedback": "回访意见",
    "summary": "问题内容", "location": "地点", "response": "办理情况", "owner": "责任主体", "category": "类别",
    "category_name": "类别名称", "co_owners": "协办单位", "corrected": "人工更正", "needs_review": "待复核",
    "received_at": "受理时间", "community": "社区", "issues": "问题", "deadline": "办理时限", "limit": "每页条数", "offset": "起始位置",
    "file": "文件", "column": "文本列", "save": "存入台账", "quotes": "原话", "speakers": "提出人", "q": "搜索词",
    "date_from": "开始日期", "date_to": "结束日期", "urgent": "紧急", "overdue": "逾期", "confidence": "把握",
    "role": "角色", "name": "名称", "label": "类别", "source": "来源", "mentions": "提出次数", "repeat": "重复反映",
    "into": "并入的编号", "seen": "查看时间",
}


def _int_env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def _role_env(name: str, default: str) -> str:
    value = os.environ.get(name, default).strip() or default
    if value not in ROLES:
        raise SystemExit(f"环境变量 {name}={value!r} 无效，可用：{'、'.join(ROLES)}")
    return value


@dataclass(frozen=True)
class Settings:
    """Where data lives and how much one request may send."""

    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("TRIAGE_DATA_DIR", "data")))
    # who may 销号 (close the record for good): staff by default; "admin" keeps it for the 书记/主任
    close_role: str = field(default_factory=lambda: _role_env("TRIAGE_CLOSE_ROLE", "staff"))
    # the 社区 this ledger serves, for entries that name none (a 居委会's own install); a token's own 社区 wins
    community: str = field(default_factory=lambda: os.environ.get("TRIAGE_COMMUNITY", "").strip()[:40])
    # TRIAGE_COMMUNITY_SCOPE=1: a staff token with a 社区 handles only that 社区's entries (and those with none);
    # administrators handle all. Off by default: a 街道 desk works across its communities.
    community_scope: bool = field(default_factory=lambda: os.environ.get("TRIAGE_COMMUNITY_SCOPE", "").strip().lower()
                                  in ("1", "true", "yes", "on"))
    db_path: Path | None = None
    model_dir: Path | None = field(default_factory=lambda: Path(p) if (p := os.environ.get("TRIAGE_MODEL_DIR")) else None)
    taxonomy_path: Path | None = field(default_factory=lambda: Path(p) if (p := os.environ.get("TRIAGE_TAXONOMY")) else None)
    max_text_chars: int = field(default_factory=lambda: _int_env("TRIAGE_MAX_TEXT_CHARS", 5_000))
    max_notes_chars: int = field(default_factory=lambda: _int_env("TRIAGE_MAX_NOTES_CHARS", 100_000))
    max_upload_bytes: int = field(default_factory=lambda: _int_env("TRIAGE_MAX_UPLOAD_MB", 20) * 1024 * 1024)
    max_upload_rows: int = field(default_factory=lambda: _int_env("TRIAGE_MAX_UPLOAD_ROWS", 50_000))
    # tagged files hold residents' words and phone numbers: removed this many days after the upload
    job_keep_days: int = field(default_factory=lambda: _int_env("TRIAGE_JOB_KEEP_DAYS", 30))
    models_path: Path | None = field(default_factory=lambda: Path(p) if (p := os.environ.get("TRIAGE_MODELS_DIR")) else None)
    promote_tolerance: float = field(default_factory=lambda: float(os.environ.get("TRIAGE_PROMOTE_TOLERANCE", 0.005)))
    max_class_drop: float = field(default_factory=lambda: float(os.environ.get("TRIAGE_MAX_CLASS_DROP", 0.05)))

    @property
    def database(self) -> Path:
        """The SQLite file (default: <data_dir>/triage.db)."""
        return self.db_path or self.data_dir / "triage.db"

    @property
    def models_dir(self) -> Path:
        """Where retrained model versions are written (default: <data_dir>/models)."""
        return self.models_path or self.data_dir / "models"

    def gate(self):
        """The promotion rule for retrained models."""
        from triage.learning import Gate

        return Gate(tolerance=self.promote_tolerance, max_class_drop=self.max_class_drop)

    @property
    def jobs_dir(self) -> Path:
        """Where tagged batch files are kept for download."""
        return self.data_dir / "jobs"
