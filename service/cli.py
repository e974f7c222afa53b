"""`triage serve` and `triage token`: the service side of the command line."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from pathlib import Path

from .settings import ROLES, Settings

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
    settings = dataclasses.replace(settings, **changes)
    try:
        settings.database.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SystemExit(f"错误：无法创建数据文件夹 {settings.database.parent}（{e.strerror}）") from None
    return settings


ADMIN_TOKEN_FILE = "admin-token.txt"


def first_admin_token(store, data_dir: Path, stream) -> str | None:
    """On a database with no admin yet, create one and hand its token to the person starting the service.

    On a terminal the token is shown once. When the output goes elsewhere (a log file, systemd's
    journal) it is written to data/admin-token.txt, readable by the owner only, and only the path
    is printed: a secret must never end up in a log.
    """
    has_admin = next(store.db.query("SELECT count(*) AS n FROM tokens WHERE role = 'admin' AND revoked = 0"))["n"]
    if has_admin:
        return None
    token = store.create_token("admin", "首次启动管理员")
    if stream.isatty():
        print(f"\n首次启动：已创建管理员令牌（只显示这一次，请妥善保存）：\n  {token}\n", file=stream)
    else:
        path = Path(data_dir) / ADMIN_TOKEN_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(token + "\n")
        print(f"首次启动：已创建管理员令牌，写在 {path}（仅本用户可读；登录后请删除此文件）。", file=stream)
    return token


def cmd_serve(args) -> int:
    from .store import Store

    import uvicorn

    from .app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with Store(settings.database) as store:
        store.migrate()
        first_admin_token(store, settings.data_dir, sys.stderr)
    print(f"聊天页面： http://{args.host}:{args.port}/    接口文档： http://{args.host}:{args.port}/docs", file=sys.stderr)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, access_log=False, log_level="info")
    return 0


def cmd_token(args) -> int:
    from .store import Store

    settings = _settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with Store(settings.database) as store:
        store.migrate()
        if args.action == "create":
            token = store.create_token(args.role, args.name or args.role, args.community or "")
            print(token)
            where = f"，所属社区：{args.community.strip()}" if (args.community or "").strip() else ""
            print(f"已创建“{args.role}”令牌{where}（只显示这一次）。", file=sys.stderr)
        elif args.action == "revoke":
            if args.id is None:
                raise ValueError("请给出要停用的令牌编号，例如 triage token revoke 3（编号见 triage token list）")
            row = store.revoke_token(args.id)
            print(f"已停用令牌 {row['id']}（{row['name']}，{row['role']}）：立即不能再写入，查看也会在几秒内失效。")
        else:
            from triage import load_taxonomy

            from .convert import local

            tz = load_taxonomy(settings.taxonomy_path).timezone
            for row in store.tokens():
                print(f"{row['id']}\t{row['role']}\t{row['name']}\t{row['community'] or ''}\t{local(row['created'], tz)}\t"
                      f"{'已停用' if row['revoked'] else ''}")
    return 0


def cmd_retrain(args) -> int:
    from .store import Store

    import json

    from triage import load_taxonomy

    from . import registry

    settings = _settings(args)
    with Store(settings.database) as store:
        store.migrate()
    taxonomy = load_taxonomy(settings.taxonomy_path)
    current = registry.load_active_model(settings, taxonomy)
    print(f"当前模型：{current.version}", file=sys.stderr)
    outcome = registry.run_retrain(settings, taxonomy, current, progress=lambda m: print(m, file=sys.stderr))
    print(json.dumps(outcome, ensure_ascii=False, indent=2))
    return 0


def cmd_models(args) -> int:
    from .store import Store

    from triage import load_taxonomy

    from . import registry

    settings = _settings(args)
    taxonomy = load_taxonomy(settings.taxonomy_path)
    with Store(settings.database) as store:
        store.migrate()
        if not registry.list_models(store):  # first use: register the shipped model (no loading otherwise,
            registry.load_active_model(settings, taxonomy)  # so a damaged active model can still be replaced)
        if args.action == "list":
            for m in registry.list_models(store):
                f1 = f"{m['macro_f1']:.4f}" if m["macro_f1"] is not None else "—"
                print(f"{m['version']}\t{m['status']}\tmacro-F1 {f1}\t{m['reason'] or ''}")
        elif args.action == "activate":
            if not args.version:
                raise ValueError("请给出要启用的版本号，例如 triage models activate v20261125-101500")
            row = registry.activate(store, args.version, taxonomy)
            print(f"已启用 {row['version']}（运行中的服务会在几秒内切换）")
        else:
            row = registry.rollback(store, taxonomy)
            print(f"已回退到 {row['version']}（运行中的服务会在几秒内切换）")
    return 0


def cmd_examples(args) -> int:
    from .store import Store

    from triage import load_taxonomy
    from triage.examples import labelled_pairs, parse_label_map
    from triage.tables import read_table, write_table

    settings = _settings(args)
    taxonomy = load_taxonomy(settings.taxonomy_path)
    with Store(settings.database) as store:
        store.migrate()
        if args.action == "export":
            rows = store.labelled_examples()
            write_table(rows, store.LABELLED_COLUMNS, args.file or sys.stdout, None if args.file else "jsonl")
            print(f"已导出 {len(rows)} 条标注样本", file=sys.stderr)
            return 0
        if not args.file:
            raise ValueError("请给出要导入的文件（CSV / XLSX / JSONL，含文字列和类别列）。")
        rows, header = read_table(args.file)
        pairs = labelled_pairs(rows, header, taxonomy, parse_label_map(args.map))
        n = store.import_labelled(pairs, "命令行导入")
        print(f"已导入 {n} 条标注样本" + (f"（另有 {len(pairs) - n} 条之前已导入，未重复保存）" if len(pairs) > n else ""))
    from .routes_admin import disagreements

    for line in disagreements(registry_model(settings, taxonomy), pairs):
        print(f"请核对：{line}", file=sys.stderr)
    return 0


def cmd_backup(args) -> int:
    """Copy the ledger database (SQLite's online backup: safe while the service runs) and the retrained models."""
    import datetime as dt
    import shutil
    import sqlite3

    settings = _settings(args)
    if not settings.database.is_file():
        print(f"找不到数据库文件：{settings.database}（请用 --data-dir 指向数据文件夹）", file=sys.stderr)
        return 2
    folder = Path(args.to) if args.to else settings.data_dir / "backups" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        folder.mkdir(parents=True, exist_ok=False)
        os.chmod(folder, 0o700)
    except FileExistsError:
        print(f"备份文件夹已存在：{folder}，请换一个。", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"无法建立备份文件夹 {folder}：{e.strerror or e}", file=sys.stderr)
        return 2
    target = folder / "triage.db"
    source = sqlite3.connect(settings.database, timeout=60)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # page by page, consistent, while others go on writing
        counts = {name: copy.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # noqa: S608 (fixed names)
                  for name in ("entries", "corrections", "tokens")}
    finally:
        copy.close()
        source.close()
    os.chmod(target, 0o600)
    if settings.models_dir.is_dir():  # each version's files never change once written
        shutil.copytree(settings.models_dir, folder / "models")
    print(f"已备份到 {folder}：台账 {counts['entries']} 条，人工更正和导入样本 {counts['corrections']} 条，"
          f"令牌 {counts['tokens']} 个" + ("，以及重新训练的模型" if settings.models_dir.is_dir() else "") + "。")
    print("恢复：先停止服务，把备份里的 triage.db（和 models 文件夹）复制回数据文件夹，再启动；"
          "备份之后停用的令牌会重新有效，请用 triage token list 核对并再次停用。", file=sys.stderr)
    return 0


def registry_model(settings, taxonomy):
    """The model the service would answer with (the registry's active one)."""
    from . import registry

    return registry.load_active_model(settings, taxonomy)


def register(sub, common) -> None:
    """Add the service commands to the `triage` parser."""
    p = sub.add_parser("serve", help="启动服务（聊天页面 + 接口），数据存于 SQLite")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    p.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    p.add_argument("--db", help="SQLite 数据库文件（默认 data/triage.db）")
    p.add_argument("--data-dir", help="数据文件夹（默认 data/ 或 $TRIAGE_DATA_DIR）")
    common(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("token", help="管理访问令牌：create 新建 / list 列出 / revoke 停用")
    p.add_argument("action", choices=("create", "list", "revoke"), help="create、list 或 revoke")
    p.add_argument("id", nargs="?", type=int, help="revoke：要停用的令牌编号（见 token list）")
    p.add_argument("--role", choices=ROLES, default="staff", help="viewer 查看 / staff 办理 / admin 管理")
    p.add_argument("--name", help="令牌持有人（如 张三）")
    p.add_argument("--community", help="持有人所在社区（如 东湖社区）：他录入的没写社区的问题记在这个社区")
    p.add_argument("--db", help="SQLite 数据库文件（默认 data/triage.db）")
    p.add_argument("--data-dir", help="数据文件夹")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("retrain", help="用训练数据 + 人工更正重新训练；评估不低于当前模型才启用")
    p.add_argument("--db", help="SQLite 数据库文件（默认 data/triage.db）")
    p.add_argument("--data-dir", help="数据文件夹")
    p.add_argument("--taxonomy", help="分类配置 TOML 文件")
    p.set_defaults(func=cmd_retrain)

    p = sub.add_parser("models", help="模型版本：list 列出 / activate 启用 / rollback 回退")
    p.add_argument("action", choices=("list", "activate", "rollback"), help="list、activate 或 rollback")
    p.add_argument("version", nargs="?", help="activate 时的版本号")
    p.add_argument("--db", help="SQLite 数据库文件（默认 data/triage.db）")
    p.add_argument("--data-dir", help="数据文件夹")
    p.add_argument("--taxonomy", help="分类配置 TOML 文件")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("backup", help="备份台账数据库和重新训练的模型（服务运行中也可以备份）")
    p.add_argument("--to", help="备份文件夹（默认 data/backups/年月日-时分秒）")
    p.add_argument("--db", help="SQLite 数据库文件（默认 data/triage.db）")
    p.add_argument("--data-dir", help="数据文件夹")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("examples", help="标注样本（人工更正）：export 导出 / import 导入（JSONL、CSV、XLSX）")
    p.add_argument("action", choices=("export", "import"), help="export 或 import")
    p.add_argument("file", nargs="?", help="文件；export 时省略则以 JSONL 输出到屏幕")
    p.add_argument("--map", help="import：类别对照，如 \"物业管理=物业服务；市政设施=公共设施\"")
    p.add_argument("--db", help="SQLite 数据库文件（默认 data/triage.db）")
    p.add_argument("--data-dir", help="数据文件夹")
    p.add_argument("--taxonomy", help="分类配置 TOML 文件")
    p.set_defaults(func=cmd_examples)
