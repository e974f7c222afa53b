"""`triage serve` and `triage token`: the service side of the command line."""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path

from .settings import Settings
from .store import ROLES, Store

__all__ = ["register"]


def _settings(args) -> Settings:
    settings = Settings()
    changes = {}
    if getattr(args, "data_dir", None):
        changes["data_dir"] = Path(args.data_dir)
    if getattr(args, "db", None):
        changes["db_path"] = Path(args.db)
    if getattr(args, "model", None):
        changes["model_dir"] = Path(args.model)
    if getattr(args, "taxonomy", None):
        changes["taxonomy_path"] = Path(args.taxonomy)
    return dataclasses.replace(settings, **changes)


def cmd_serve(args) -> int:
    import uvicorn

    from .app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with Store(settings.database) as store:
        store.migrate()
        has_admin = next(store.db.query("SELECT count(*) AS n FROM tokens WHERE role = 'admin' AND revoked = 0"))["n"]
        if not has_admin:
            token = store.create_token("admin", "首次启动管理员")
            # Shown once on the terminal (not through logging) so it never lands in log files.
            print(f"\n首次启动：已创建管理员令牌（只显示这一次，请妥善保存）：\n  {token}\n", file=sys.stderr)
    print(f"聊天页面： http://{args.host}:{args.port}/    接口文档： http://{args.host}:{args.port}/docs", file=sys.stderr)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, access_log=False, log_level="info")
    return 0


def cmd_token(args) -> int:
    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with Store(settings.database) as store:
        store.migrate()
        if args.action == "create":
            token = store.create_token(args.role, args.name or args.role)
            print(token)
            print(f"已创建“{args.role}”令牌（只显示这一次）。", file=sys.stderr)
        else:
            for row in store.db.query("SELECT id, name, role, created, revoked FROM tokens ORDER BY id"):
                print(f"{row['id']}\t{row['role']}\t{row['name']}\t{row['created']}\t{'已停用' if row['revoked'] else ''}")
    return 0


def register(sub, common) -> None:
    """Add the service commands to the `triage` parser."""
    p = sub.add_parser("serve", help="启动服务（聊天页面 + 接口），数据存于 SQLite")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    p.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    p.add_argument("--db", help="SQLite 数据库文件（默认 data/triage.db）")
    p.add_argument("--data-dir", help="数据文件夹（默认 data/ 或 $TRIAGE_DATA_DIR）")
    common(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("token", help="管理访问令牌：create 新建 / list 列出")
    p.add_argument("action", choices=("create", "list"), help="create 或 list")
    p.add_argument("--role", choices=ROLES, default="staff", help="viewer 查看 / staff 办理 / admin 管理")
    p.add_argument("--name", help="令牌持有人（如 张三）")
    p.add_argument("--db", help="SQLite 数据库文件（默认 data/triage.db）")
    p.add_argument("--data-dir", help="数据文件夹")
    p.set_defaults(func=cmd_token)
