"""Load and validate the taxonomy config: categories, owners, deadline rules, precedence.

The default lives in ``triage/data/taxonomy.toml``; any other file with the same keys
(a 12345 centre's own codes, a benchmark's seven classes) works the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["Category", "Precedence", "Rule", "Taxonomy", "TaxonomyError", "default_taxonomy_path", "load_taxonomy"]


class TaxonomyError(ValueError):
    """The taxonomy file is missing or invalid; the message names the file and the key."""

    def __init__(self, path: str | Path, key: str, problem: str):
        self.path, self.key, self.problem = str(path), key, problem
        super().__init__(f"分类配置文件有误 {path}: [{key}] {problem}")


@dataclass(frozen=True)
class Rule:
    """A keyword-triggered change to a category's routing (urgent, owner, deadline)."""

    when_any: tuple[str, ...]
    note: str = ""
    deadline_days: int | None = None
    urgent: bool | None = None
    owner: str | None = None
    co_owners: tuple[str, ...] | None = None
    add_co_owners: tuple[str, ...] = ()
    when_all: tuple[tuple[str, ...], ...] = ()

    def matches(self, text: str) -> bool:
        """True when the normalised text contains one of the trigger words, or a word of every group."""
        return _matches(text, self.when_any, self.when_all)


def _matches(text: str, when_any: tuple[str, ...], when_all: tuple[tuple[str, ...], ...]) -> bool:
    # when_all: [["楼道", "大堂"], ["充电"]] matches "楼道里给电动车充电", whatever the words between
    return any(w in text for w in when_any) or (bool(when_all) and all(any(w in text for w in g) for g in when_all))


@dataclass(frozen=True)
class Category:
    """One category with its default owner and deadline."""

    code: str
    name: str
    owner: str
    co_owners: tuple[str, ...] = ()
    deadline_days: int = 5
    urgent: bool = False
    fallback: bool = False
    description: str = ""
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Precedence:
    """Switch the primary category to `prefer` when the text has a trigger word."""

    prefer: str
    over: tuple[str, ...]
    when_any: tuple[str, ...]
    note: str = ""
    when_all: tuple[tuple[str, ...], ...] = ()

    def matches(self, text: str) -> bool:
        """True when the normalised text contains one of the trigger words, or a word of every group."""
        return _matches(text, self.when_any, self.when_all)


@dataclass(frozen=True)
class Taxonomy:
    """A validated taxonomy: ordered categories plus global settings."""

    name: str
    categories: tuple[Category, ...]
    precedence: tuple[Precedence, ...] = ()
    timezone: str = "Asia/Shanghai"
    review_threshold: float = 0.5
    secondary_threshold: float = 0.25
    urgent_hours: int = 24
    day_end: dt.time = dt.time(18, 0)
    extra_holidays: frozenset[dt.date] = field(default_factory=frozenset)
    extra_workdays: frozenset[dt.date] = field(default_factory=frozenset)
    extra_owners: tuple[str, ...] = ()
    owner_aliases: tuple[tuple[str, str], ...] = ()  # (everyday name, owner): 物业公司 → 物业服务企业
    category_aliases: tuple[tuple[str, str], ...] = ()  # (everyday word, code): 垃圾 → environment, 电梯 → facilities
    source: str = ""
    sha256: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        """Category codes in file order."""
        return tuple(c.code for c in self.categories)

    @property
    def owners(self) -> tuple[str, ...]:
        """Every owner a problem may be handed to: those the categories and their rules route to, then `owners`."""
        found: dict[str, None] = {}
        for c in self.categories:
            found.update(dict.fromkeys([c.owner, *c.co_owners]))
        for c in self.categories:
            for rule in c.rules:
                found.update(dict.fromkeys([rule.owner or c.owner, *(rule.co_owners or ()), *rule.add_co_owners]))
        found.update(dict.fromkeys(self.extra_owners))
        return tuple(o for o in found if o)

    @property
    def fallback(self) -> Category | None:
        """The catch-all category (e.g. `other`), if the taxonomy has one."""
        return next((c for c in self.categories if c.fallback), None)

    def get(self, code: str) -> Category:
        """The category with this code; KeyError names the known codes."""
        for c in self.categories:
            if c.code == code:
                return c
        raise KeyError(f"未知类别 {code!r}，可用类别：{', '.join(self.codes)}")

    def resolve(self, code_or_name: str, *, words: bool = True) -> Category:
        """Find a category by code or Chinese name (staff type names, data carries codes).

        `words` also takes the everyday words of `category_aliases` ("垃圾", "电梯维修"); training labels are
        read without them (words=False), so a centre's own category name is never guessed into ours."""
        text = code_or_name.strip().replace("其它", "其他")  # both spellings are in everyday use
        if not text:
            raise KeyError(f"请填写类别，可用类别：{'、'.join(c.name for c in self.categories)}")
        for c in self.categories:
            if text in (c.code, c.name) or text.lower() == c.code.lower():
                return c
        found = [c for c in self.categories if len(text) >= 2 and text in c.name]  # "宠物" → 宠物管理
        if len(found) == 1:
            return found[0]
        if found:  # "设施" is 充电设施 or 公共设施: never guess
            raise KeyError(f"“{text}”可以是{'、'.join(c.name for c in found)}，请写全称")
        # the words staff and old ledgers use (category_aliases): "垃圾", "电梯维修", "停车难"
        exact = dict(self.category_aliases).get(text) if words else None
        if exact:
            return self.get(exact)
        named = {code for word, code in self.category_aliases if words and word in text}
        if len(named) == 1:
            return self.get(named.pop())
        if named:  # "电梯充电" names two kinds: never guess
            names = "、".join(c.name for c in self.categories if c.code in named)
            raise KeyError(f"“{text}”可以是{names}，请写全称")
        raise KeyError(f"不认识的类别“{text}”，可用类别：{'、'.join(c.name for c in self.categories)}")


def default_taxonomy_path() -> Path:
    """The taxonomy in use: $TRIAGE_TAXONOMY or the packaged default."""
    env = os.environ.get("TRIAGE_TAXONOMY")
    if env:
        return Path(env)
    return Path(str(resources.files("triage") / "data" / "taxonomy.toml"))


def _strings(value: Any, path: Path, key: str, *, allow_empty: bool = True) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TaxonomyError(path, key, "应为非空字符串列表 (a list of non-empty strings)")
    if not allow_empty and not value:
        raise TaxonomyError(path, key, "列表不能为空 (must not be empty)")
    return tuple(v.strip() for v in value)


def _check_keys(table: dict, allowed: set[str], path: Path, key: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise TaxonomyError(path, f"{key}.{unknown[0]}", f"未知的配置项，可用：{', '.join(sorted(allowed))}")


def _str(table: dict, name: str, path: Path, key: str, default: str | None = None) -> str:
    value = table.get(name, default)
    if not isinstance(value, str) or not value.strip():
        raise TaxonomyError(path, f"{key}.{name}", "缺少或不是非空字符串 (missing or not a non-empty string)")
    return value.strip()


def _int(table: dict, name: str, path: Path, key: str, default: int | None = None, low: int = 0) -> int | None:
    value = table.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise TaxonomyError(path, f"{key}.{name}", f"应为不小于 {low} 的整数 (an integer ≥ {low})")
    return value


def _bool(table: dict, name: str, path: Path, key: str, default: bool | None = None) -> bool | None:
    value = table.get(name, default)
    if value is not None and not isinstance(value, bool):
        raise TaxonomyError(path, f"{key}.{name}", "应为 true 或 false")
    return value


def _rule(table: Any, path: Path, key: str) -> Rule:
    if not isinstance(table, dict):
        raise TaxonomyError(path, key, "应为表 (a table)")
    _check_keys(table, {"when_any", "when_all", "note", "deadline_days", "urgent", "owner", "co_owners", "add_co_owners"},
                path, key)
    co = table.get("co_owners")
    when_any, when_all = _triggers(table, path, key)
    return Rule(
        when_any=when_any,
        when_all=when_all,
        note=str(table.get("note", "")),
        deadline_days=_int(table, "deadline_days", path, key),
        urgent=_bool(table, "urgent", path, key),
        owner=_str(table, "owner", path, key) if "owner" in table else None,
        co_owners=_strings(co, path, f"{key}.co_owners") if co is not None else None,
        add_co_owners=_strings(table.get("add_co_owners", []), path, f"{key}.add_co_owners"),
    )


def _triggers(table: dict, path: Path, key: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """`when_any` (words) and `when_all` (groups of words); at least one of them must be given."""
    groups = table.get("when_all", [])
    if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
        raise TaxonomyError(path, f"{key}.when_all", "应为词表的列表，如 [[\"楼道\", \"大堂\"], [\"充电\"]]")
    when_all = tuple(_strings(g, path, f"{key}.when_all[{i}]", allow_empty=False) for i, g in enumerate(groups))
    when_any = _strings(table.get("when_any", []), path, f"{key}.when_any", allow_empty=bool(when_all))
    return when_any, when_all


def _dates(value: Any, path: Path, key: str) -> frozenset[dt.date]:
    out = set()
    for item in _strings(value, path, key):
        try:
            out.add(dt.date.fromisoformat(item))
        except ValueError:
            raise TaxonomyError(path, key, f"日期格式应为 YYYY-MM-DD，收到 {item!r}") from None
    return frozenset(out)


def parse_taxonomy(data: dict, path: Path) -> Taxonomy:
    """Validate a parsed TOML document into a Taxonomy."""
    _check_keys(data, {"taxonomy", "category", "precedence"}, path, "")
    head = data.get("taxonomy", {})
    if not isinstance(head, dict):
        raise TaxonomyError(path, "taxonomy", "应为表 (a table)")
    _check_keys(head, {"name", "timezone", "review_threshold", "secondary_threshold", "urgent_hours", "day_end", "extra_holidays", "extra_workdays", "owners", "owner_aliases", "category_aliases"}, path, "taxonomy")
    raw = data.get("category")
    if not isinstance(raw, list) or len(raw) < 2:
        raise TaxonomyError(path, "category", "至少需要两个 [[category]] (at least two categories)")
    cats: list[Category] = []
    for i, table in enumerate(raw):
        key = f"category[{i}]"
        if not isinstance(table, dict):
            raise TaxonomyError(path, key, "应为表 (a table)")
        _check_keys(table, {"code", "name", "owner", "co_owners", "deadline_days", "urgent", "fallback", "description", "rule"}, path, key)
        code = _str(table, "code", path, key)
        if not code.replace("_", "").replace("-", "").isalnum():
            raise TaxonomyError(path, f"{key}.code", f"类别代码只能含字母数字和下划线，收到 {code!r}")
        key = f"category.{code}"
        cats.append(Category(
            code=code,
            name=_str(table, "name", path, key),
            owner=_str(table, "owner", path, key),
            co_owners=_strings(table.get("co_owners", []), path, f"{key}.co_owners"),
            deadline_days=_int(table, "deadline_days", path, key, default=5),
            urgent=_bool(table, "urgent", path, key, default=False),
            fallback=_bool(table, "fallback", path, key, default=False),
            description=str(table.get("description", "")),
            rules=tuple(_rule(r, path, f"{key}.rule[{j}]") for j, r in enumerate(table.get("rule", []))),
        ))
    codes = [c.code for c in cats]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise TaxonomyError(path, f"category.{dupes[0]}", "类别代码重复 (duplicate code)")
    if sum(c.fallback for c in cats) > 1:
        raise TaxonomyError(path, "category.fallback", "只能有一个兜底类别 (only one fallback category)")
    precedence = []
    for i, table in enumerate(data.get("precedence", [])):
        key = f"precedence[{i}]"
        if not isinstance(table, dict):
            raise TaxonomyError(path, key, "应为表 (a table)")
        _check_keys(table, {"prefer", "over", "when_any", "when_all", "note"}, path, key)
        when_any, when_all = _triggers(table, path, key)
        p = Precedence(
            prefer=_str(table, "prefer", path, key),
            over=_strings(table.get("over"), path, f"{key}.over", allow_empty=False),
            when_any=when_any,
            when_all=when_all,
            note=str(table.get("note", "")),
        )
        for code in (p.prefer, *p.over):
            if code not in codes:
                raise TaxonomyError(path, key, f"未知类别 {code!r}，可用：{', '.join(codes)}")
        precedence.append(p)
    review = head.get("review_threshold", 0.5)
    secondary = head.get("secondary_threshold", 0.25)
    for name, value in (("review_threshold", review), ("secondary_threshold", secondary)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise TaxonomyError(path, f"taxonomy.{name}", "应为 0 到 1 之间的数")
    try:
        day_end = dt.time.fromisoformat(str(head.get("day_end", "18:00")))
    except ValueError:
        raise TaxonomyError(path, "taxonomy.day_end", "时间格式应为 HH:MM") from None
    timezone = str(head.get("timezone", "Asia/Shanghai"))
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(timezone)
    except Exception:
        raise TaxonomyError(path, "taxonomy.timezone", f"未知时区 {timezone!r}") from None
    tax = Taxonomy(
        name=str(head.get("name", path.stem)),
        categories=tuple(cats),
        precedence=tuple(precedence),
        timezone=timezone,
        review_threshold=float(review),
        secondary_threshold=float(secondary),
        urgent_hours=_int(head, "urgent_hours", path, "taxonomy", default=24, low=1),
        day_end=day_end,
        extra_holidays=_dates(head.get("extra_holidays", []), path, "taxonomy.extra_holidays"),
        extra_workdays=_dates(head.get("extra_workdays", []), path, "taxonomy.extra_workdays"),
        extra_owners=_strings(head.get("owners", []), path, "taxonomy.owners"),
        source=str(path),
    )
    owners = _aliases(head, "owner_aliases", tax.owners, path, "责任主体")
    words = _aliases(head, "category_aliases", tax.codes, path, "类别代码")
    return replace(tax, owner_aliases=owners, category_aliases=words)


def _aliases(head: dict, key: str, known: tuple[str, ...], path: Path, what: str) -> tuple[tuple[str, str], ...]:
    """A table of everyday names ("物业公司" = "物业服务企业", "垃圾" = "environment"), each naming a known one."""
    table = head.get(key, {})
    if not isinstance(table, dict):
        raise TaxonomyError(path, f"taxonomy.{key}", f"应为表：常用叫法 = {what}")
    for said, meant in table.items():
        if meant not in known:
            raise TaxonomyError(path, f"taxonomy.{key}.{said}", f"“{meant}”不是已知的{what}")
    return tuple((str(k).strip(), str(v)) for k, v in table.items() if str(k).strip())


@lru_cache(maxsize=16)
def _load(path: str, mtime: float) -> Taxonomy:
    p = Path(path)
    raw = p.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise TaxonomyError(p, "", "文件不是 UTF-8 编码") from None
    except tomllib.TOMLDecodeError as e:
        raise TaxonomyError(p, "", f"TOML 语法错误：{e}") from None
    tax = parse_taxonomy(data, p)
    return Taxonomy(**{**tax.__dict__, "sha256": hashlib.sha256(raw).hexdigest()})


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy TOML file (default: the packaged one)."""
    p = Path(path) if path else default_taxonomy_path()
    if not p.is_file():
        raise TaxonomyError(p, "", "找不到分类配置文件 (file not found)")
    return _load(str(p.resolve()), p.stat().st_mtime)
