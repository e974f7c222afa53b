"""Labelled examples: reading and writing the JSONL training files.

One example per line: ``{"text": "...", "label": "<code>"}``, optionally ``"secondary"``.
Problems name the file and the line, because people edit these files by hand.
"""

from __future__ import annotations

import hashlib
import re
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .taxonomy import Taxonomy

__all__ = ["parse_label_map", "Example", "TrainingDataError", "data_hash", "labelled_pairs", "default_roles_file", "default_training_files", "load_examples"]


class TrainingDataError(ValueError):
    """A training file is missing or has a bad line; the message names file and line."""


@dataclass(frozen=True)
class Example:
    """One labelled text."""

    text: str
    label: str
    secondary: tuple[str, ...] = ()
    source: str = ""


def default_training_files(root: Path | None = None) -> list[Path]:
    """The category files in ``training_data/`` (not the notes-role file)."""
    root = root or Path(__file__).resolve().parent.parent / "training_data"
    return sorted(p for p in root.glob("*.jsonl") if p.name != "roles.jsonl")


def default_roles_file(root: Path | None = None) -> Path:
    """The utterance-role examples (issue/reply/chatter/narrative) for meeting notes."""
    return (root or Path(__file__).resolve().parent.parent / "training_data") / "roles.jsonl"


def load_examples(paths: Iterable[Path | str], taxonomy: Taxonomy | None = None, *, label_key: str = "label") -> list[Example]:
    """Read examples from JSONL files; unknown labels are an error when a taxonomy is given."""
    codes = set(taxonomy.codes) if taxonomy else None
    out: list[Example] = []
    for path in map(Path, paths):
        if not path.is_file():
            raise TrainingDataError(f"找不到训练数据文件：{path}")
        with path.open(encoding="utf-8-sig") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{path}:{n}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    hint = "（标注数据请用 JSONL：每行一个 {\"text\": …, \"label\": …}）" if n == 1 else ""
                    raise TrainingDataError(f"{path} 第 {n} 行不是有效的 JSON{hint}") from None
                text, label = (row.get("text"), row.get(label_key)) if isinstance(row, dict) else (None, None)
                if not isinstance(text, str) or not text.strip():
                    raise TrainingDataError(f"{where}: 缺少 text 或为空")
                if not isinstance(label, str) or not label:
                    raise TrainingDataError(f"{where}: 缺少 {label_key}")
                if codes is not None and label not in codes:
                    try:  # a centre's own data often carries the Chinese name (城乡建设) instead of the code
                        label = taxonomy.resolve(label, words=False).code
                    except KeyError:
                        names = "、".join(f"{c.name}（{c.code}）" for c in taxonomy.categories)
                        raise TrainingDataError(f"{where}: 未知类别 {label!r}，可用：{names}") from None
                secondary = tuple(s for s in row.get("secondary") or () if isinstance(s, str) and s != label)
                out.append(Example(text=text, label=label, secondary=secondary, source=where))
    return out


LABEL_COLUMNS = ("label", "类别", "分类", "问题类别", "诉求类别", "事项类别", "category", "类型")


def parse_label_map(text: str | None) -> dict[str, str]:
    """"物业管理=物业服务；市政设施=公共设施" (also , ; ， ；, newlines; = or ＝ or →) as a dict."""
    out = {}
    for part in re.split(r"[,;，；\n]+", text or ""):
        if not part.strip():
            continue
        bits = re.split(r"\s*(?:=|＝|->|→)\s*", part.strip(), maxsplit=1)
        if len(bits) != 2 or not all(bits):
            raise TrainingDataError(f"类别对照“{part.strip()}”看不懂，请写成 他们的类别=我们的类别，例如 物业管理=物业服务")
        if out.get(bits[0], bits[1]) != bits[1]:
            raise TrainingDataError(f"类别对照中“{bits[0]}”对应了两个类别（{out[bits[0]]}、{bits[1]}），请只留一个")
        out[bits[0]] = bits[1]
    return out


def labelled_pairs(rows: list[dict], header: list[str], taxonomy: Taxonomy,
                   label_map: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(text, code) pairs from a table of texts and labels; labels may be codes or names.

    The text column is `text` or one a ticket file would use (诉求内容, 内容 …); the label column is
    `label` or 类别/分类. `label_map` turns a centre's own names into ours (物业管理 → 物业服务).
    All or nothing: unknown labels are an error listing every distinct one with its rows, so a file
    is never half-imported and one attempt shows everything to fix.
    """
    from .tables import TableError, clean_name, find_text_column

    names = {clean_name(h): h for h in header}
    label_column = next((names[c] for c in LABEL_COLUMNS if c in names), None)
    try:
        text_column = find_text_column([h for h in header if h != label_column], "text")
    except TableError:
        text_column = None
    if text_column is None or label_column is None:
        raise TrainingDataError(f"需要一列文字（text、诉求内容、内容）和一列类别（label、类别），"
                                f"文件中的列有：{'、'.join(map(str, header[:12]))}")
    label_map = label_map or {}
    for theirs, ours in label_map.items():
        try:
            taxonomy.resolve(ours, words=False)
        except KeyError:
            raise TrainingDataError(f"类别对照“{theirs}={ours}”中的“{ours}”不是本系统的类别。可用："
                                    f"{'、'.join(c.name for c in taxonomy.categories)}") from None
    pairs: list[tuple[str, str]] = []
    unknown: dict[str, list[int]] = {}
    for n, row in enumerate(rows, 2):
        text, label = str(row.get(text_column) or "").strip(), str(row.get(label_column) or "").strip()
        if not text:
            continue
        label = label_map.get(label, label)
        try:
            pairs.append((text, taxonomy.resolve(label, words=False).code))
        except KeyError:
            unknown.setdefault(label, []).append(n)
    if unknown:
        def rows_of(ns: list[int]) -> str:
            return "、".join(map(str, ns[:6])) + ("…" if len(ns) > 6 else "")

        said = [f"没有填类别：{len(ns)} 行（第 {rows_of(ns)} 行）" if not label else
                f"不认识的类别“{label}”：{len(ns)} 行（第 {rows_of(ns)} 行）" for label, ns in unknown.items()]
        raise TrainingDataError(
            "导入失败，未写入任何数据。" + "；".join(said) + "。可用类别："
            + "、".join(c.name for c in taxonomy.categories)
            + "。对方的类别名可以用“类别对照”换成我们的，例如 物业管理=物业服务。")
    return pairs


def data_hash(examples: Iterable[Example]) -> str:
    """A hash of texts and labels, order-independent, for the model card."""
    digest = hashlib.sha256()
    for line in sorted(json.dumps([e.text, e.label], ensure_ascii=False) for e in examples):
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
