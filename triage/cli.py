"""The `triage` command line: classify, tag, train, evaluate, extract, serve, token."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import sys
from pathlib import Path

__all__ = ["main"]


def _now(args) -> dt.datetime:
    if getattr(args, "received_at", None):
        from .tagging import read_time

        when, readable = read_time(args.received_at, dt.datetime.min)  # the forms a ticket table's cells take
        if not readable or when == dt.datetime.min:
            raise ValueError(f"--received-at 的时间格式无法识别：{args.received_at}"
                             "（例：2026-11-25 09:30、2026/11/25 9:30、2026年11月25日）")
        return when
    return dt.datetime.now().astimezone().replace(microsecond=0)


def _load_model(args):
    from .model import Model
    from .taxonomy import load_taxonomy

    taxonomy = load_taxonomy(args.taxonomy) if getattr(args, "taxonomy", None) else None
    return Model.load(getattr(args, "model", None), taxonomy)


def cmd_classify(args) -> int:
    text = args.text if args.text != "-" else sys.stdin.read()
    if not text.strip():
        raise ValueError("文本为空，请输入要分类的内容。")
    model = _load_model(args)
    print(json.dumps(model.classify(text, _now(args)).to_dict(), ensure_ascii=False, indent=None if args.compact else 2))
    return 0


def cmd_tag(args) -> int:
    from tqdm import tqdm

    from .tables import TableError, find_text_column, read_table, write_table
    from .tagging import TAG_FIELDS, find_time_column, tag_rows

    if args.output and Path(args.output).suffix.lower() not in (".csv", ".xlsx", ".jsonl"):
        # fail before the long job, not after it
        raise TableError(f"不支持的输出格式 {Path(args.output).suffix or '(无后缀)'}：请使用 .csv、.xlsx 或 .jsonl。")
    if args.output and not Path(args.output).resolve().parent.is_dir():
        raise TableError(f"无法写入 {args.output}：文件夹不存在。")
    now = _now(args)
    if args.engine == "dask":  # the file may not fit in memory: Dask reads it in blocks
        from .parallel import tag_dask

        if not Path(args.input).is_file():
            raise TableError(f"找不到文件：{args.input}")
        if not args.output or Path(args.output).suffix.lower() == ".xlsx":
            raise TableError("Dask 引擎需要用 -o 指定 .csv 或 .jsonl 输出文件。")
        model = _load_model(args)
        n = tag_dask(model, args.input, args.output, args.column, now, scheduler=args.scheduler,
                     workers=args.workers if args.workers > 1 else None, read_times=not args.received_at)
        print(f"已完成 {n} 条 → {args.output}", file=sys.stderr)
        return 0
    notes: list[str] = []
    rows, header = read_table(args.input, notes=notes)
    column = find_text_column(header, args.column, rows, notes)
    for note in notes:
        print(f"提示：{note}", file=sys.stderr)
    model = _load_model(args)
    received_column = None if args.received_at else find_time_column(header)
    bar = tqdm(total=len(rows), unit="条", desc="打标签", disable=not sys.stderr.isatty() or args.quiet)
    workers = args.workers if args.workers > 0 else (os.cpu_count() or 1)
    if workers > 1:
        from .parallel import tag_parallel

        tagged = tag_parallel(model, rows, column, now, received_column, workers, progress=bar.update)
    else:
        tagged = tag_rows(model, rows, column, now, received_column, progress=bar.update)
    bar.close()
    columns = list(header) + [f for f in TAG_FIELDS if f not in header]
    write_table(tagged, columns, args.output or sys.stdout, None if args.output else "jsonl")
    if args.output:
        review = sum(bool(r["needs_review"]) for r in tagged)
        print(f"已完成 {len(tagged)} 条，其中 {review} 条需要人工复核 → {args.output}", file=sys.stderr)
    return 0


def cmd_train(args) -> int:
    from .examples import default_roles_file, default_training_files, load_examples
    from .model import default_model_dir, train_model
    from .taxonomy import load_taxonomy

    taxonomy = load_taxonomy(args.taxonomy)
    files = args.data or default_training_files()
    if not files:
        raise ValueError("没有找到训练数据文件（training_data/*.jsonl）。")
    examples = load_examples(files, taxonomy)
    roles_file = Path(args.roles) if args.roles else default_roles_file()
    role_examples = load_examples([roles_file], label_key="role") if roles_file and roles_file.is_file() else []
    say = (lambda m: print(m, file=sys.stderr)) if not args.quiet else None
    if say:
        say(f"{len(examples)} 条训练样本，{len(taxonomy.codes)} 个类别")
    model = train_model(examples, taxonomy, cv=args.cv, version=args.version, progress=say, role_examples=role_examples,
                        holdout_share=args.holdout)
    out = model.save(args.out or default_model_dir())
    metrics = model.card.get("metrics") or {}
    holdout = model.card.get("holdout") or {}
    print(json.dumps({"model": str(out), "version": model.version, "n_examples": model.card["n_examples"],
                      "cv_accuracy": metrics.get("accuracy"), "cv_macro_f1": metrics.get("macro_f1"),
                      "holdout_n": holdout.get("n"), "holdout_macro_f1": holdout.get("macro_f1")}, ensure_ascii=False))
    return 0


def cmd_evaluate(args) -> int:
    from .classify import evaluate_predictions
    from .examples import Example, labelled_pairs, load_examples

    model = _load_model(args)
    if Path(args.data).suffix.lower() in (".csv", ".xlsx", ".xls", ".tsv"):  # text + label columns
        from .tables import read_table

        rows, header = read_table(args.data)
        examples = [Example(t, c) for t, c in labelled_pairs(rows, header, model.taxonomy)]
    else:
        examples = load_examples([args.data], model.taxonomy)
    guessed = [p.category for p in model.predict([e.text for e in examples])]
    report = evaluate_predictions([e.label for e in examples], guessed, model.taxonomy.codes)
    report["model_version"] = model.version
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"样本 {report['n']}  准确率 accuracy {report['accuracy']:.3f}  macro-F1 {report['macro_f1']:.3f}")
    print(f"{'类别':<12}{'precision':>10}{'recall':>10}{'f1':>8}{'n':>6}")
    for code, m in report["per_class"].items():
        print(f"{code:<12}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>8.3f}{m['support']:>6}")
    labels = report["labels"]
    print("混淆矩阵 (行=真实, 列=预测):")
    print(" " * 12 + "".join(f"{c[:5]:>6}" for c in labels))
    for code, row in zip(labels, report["confusion"]):
        print(f"{code:<12}" + "".join(f"{v:>6}" for v in row))
    return 0


def cmd_extract(args) -> int:
    from .ledger import issues_markdown, write_ledger
    from .notes import extract, meeting_date
    from .documents import read_notes
    from .tables import TableError

    if args.file == "-":
        text = sys.stdin.read()
    else:
        path = Path(args.file)
        if not path.is_file():
            raise TableError(f"找不到文件：{path}")
        text = read_notes(path.name, path.read_bytes())  # DocumentError is a TableError: one sentence, exit 2
    if not text.strip():
        raise ValueError("纪要内容为空。")
    model = _load_model(args)
    received = now = _now(args)
    if not args.received_at:  # deadlines count from the meeting date the record states, if any
        from zoneinfo import ZoneInfo

        # 09:00 of that day in the community's timezone, whatever the machine's clock is set to
        received = meeting_date(text, received.astimezone(ZoneInfo(model.taxonomy.timezone))) or received
    beyond: list[str] = []
    unlisted: list[str] = []
    issues = extract(text, model, received, beyond, unlisted, now=now)
    for label, said in (("不属于社区办理、没有列为问题的事项", beyond), ("没有列为问题的居民请求或提问", unlisted)):
        if said:  # on stderr, so the JSON, CSV or table on stdout stays clean
            print(f"另有 {len(said)} 句{label}：" + "；".join(f"“{x}”" for x in said), file=sys.stderr)
    fmt = args.format
    if fmt in ("xlsx", "csv") and args.output:
        write_ledger(issues, args.output, fmt)
        print(f"已提取 {len(issues)} 个问题 → {args.output}", file=sys.stderr)
    elif fmt == "xlsx":
        raise ValueError("xlsx 格式需要用 -o 指定输出文件。")
    elif fmt == "csv":
        write_ledger(issues, sys.stdout, "csv")
    elif fmt == "markdown":
        print(issues_markdown(issues))
    else:
        print(json.dumps([i.to_dict() for i in issues], ensure_ascii=False, indent=2))
    return 0


class _ChineseParser(argparse.ArgumentParser):
    """argparse's own mistakes said in Chinese, like every other error of the command line (an admin trial
    met "invalid choice: 'boss'")."""

    _SAID = ((r"argument (\S+): invalid choice: '(.*)' \(choose from (.*)\)", "参数 {0} 的值“{1}”不可用，可选：{2}"),
             (r"the following arguments are required: (.*)", "缺少参数：{0}"),
             (r"unrecognized arguments: (.*)", "不认识的参数：{0}"),
             (r"argument (\S+): expected one argument", "参数 {0} 后面要跟一个值"),
             (r"argument (\S+): invalid (\w+) value: '(.*)'", "参数 {0} 的值“{2}”格式不对"))

    def error(self, message: str):
        import re

        for pattern, said in self._SAID:
            found = re.fullmatch(pattern, message)
            if found:
                message = said.format(*(g.replace("'", "").replace(", ", "、") for g in found.groups()))
                break
        self.exit(2, f"{self.prog}：{message}。用法见 {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so tests can check every command has help)."""
    parser = _ChineseParser(prog="triage", description="社区问题分拣助手：分类、派单、办理时限、会议纪要提取。")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p, model=True):
        p.add_argument("--taxonomy", help="分类配置 TOML 文件（默认内置配置或 $TRIAGE_TAXONOMY）")
        if model:
            p.add_argument("--model", help="模型文件夹（默认 models/shipped 或 $TRIAGE_MODEL_DIR）")

    p = sub.add_parser("classify", help="对一条文本分类并给出责任主体和办理时限（输出 JSON）")
    p.add_argument("text", help="要分类的文本；- 表示从标准输入读取")
    p.add_argument("--received-at", help="受理时间，ISO 8601（默认现在）")
    p.add_argument("--compact", action="store_true", help="单行 JSON")
    common(p)
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("tag", help="批量给工单表打标签（.jsonl/.csv/.xlsx，UTF-8 或 GBK）")
    p.add_argument("input", help="输入文件 .jsonl、.csv 或 .xlsx")
    p.add_argument("-o", "--output", help="输出文件（按后缀决定格式）；省略则以 JSONL 输出到屏幕")
    p.add_argument("--column", default="text", help="文本所在的列名（默认 text，也会自动识别“内容/诉求内容”等）")
    p.add_argument("--received-at", help="所有工单的受理时间；否则用 received_at 列或现在")
    p.add_argument("--workers", type=int, default=1, help="并行进程数（默认 1；0 表示用满所有核）")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local（默认，本机进程）或 dask（大文件：本机 LocalCluster 或 --scheduler 指定的集群）")
    p.add_argument("--scheduler", help="Dask 调度器地址，如 tcp://10.0.0.5:8786（默认在本机启动 LocalCluster）")
    p.add_argument("--quiet", action="store_true", help="不显示进度条")
    common(p)
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("train", help="用训练数据训练模型并写入模型文件夹（含说明卡片）")
    p.add_argument("--data", nargs="+", help="训练数据 JSONL 文件（默认 training_data/*.jsonl）")
    p.add_argument("--out", help="输出模型文件夹（默认 models/shipped）")
    p.add_argument("--roles", help="会议纪要语句角色数据（默认 training_data/roles.jsonl，存在时一并训练）")
    p.add_argument("--cv", type=int, default=5, help="交叉验证折数，0 表示不做（默认 5）")
    p.add_argument("--holdout", type=float, default=0.1,
                   help="固定留出、不参与训练的评估样本比例（默认 0.1；重新训练时用它公平比较新旧模型）")
    p.add_argument("--version", help="模型版本名（默认按时间生成）")
    p.add_argument("--quiet", action="store_true", help="不打印进度")
    common(p, model=False)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="在标注数据上评估模型：准确率、macro-F1、各类指标和混淆矩阵")
    p.add_argument("--data", required=True, help="标注数据 JSONL（text, label）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    common(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("extract", help="从会议纪要/巡查日志/工单汇总中提取问题清单（问题台账）")
    p.add_argument("file", help="纪要文件：Word (.docx) 或文本 (.txt，UTF-8 或 GBK)；- 表示从标准输入读取")
    p.add_argument("--format", choices=("json", "markdown", "csv", "xlsx"), default="json", help="输出格式（默认 json）")
    p.add_argument("-o", "--output", help="输出文件（xlsx 必填）")
    p.add_argument("--received-at", help="受理时间，ISO 8601（默认现在）")
    common(p)
    p.set_defaults(func=cmd_extract)

    try:  # the service commands live with the service; the library works without it
        from service.cli import register
    except ImportError:
        pass
    else:
        register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: one clear sentence and a non-zero exit on any expected failure."""
    from .examples import TrainingDataError
    from .model import ModelError
    from .tables import TableError
    from .taxonomy import TaxonomyError

    try:
        from service.errors import StoreError
    except ImportError:  # library installed without the service
        StoreError = TaxonomyError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except BrokenPipeError:  # `triage … | head`: the reader left; not an error worth a message
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (TableError, ModelError, TaxonomyError, TrainingDataError, StoreError, ValueError, OSError) as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    except sqlite3.Error as e:
        print(f"错误：数据库无法使用（{e}）。请检查 --db 路径和文件权限。", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
