"""Owners (责任主体) as the taxonomy spells them, from what staff type: used by the API and by uploads."""

from __future__ import annotations

import difflib
import re

from .errors import StoreError

__all__ = ["known_owner"]


def known_owner(name: str, taxonomy) -> str:
    """The owner as the taxonomy spells it: "物业公 司" is refused with a hint, "城管" is 城管/环卫部门.

    Only known owners enter the ledger, so a typo does not split an owner's statistics and filters.
    """
    typed = "".join(name.split())
    owners = taxonomy.owners
    if typed in owners:
        return typed
    alias = dict(taxonomy.owner_aliases).get(typed)
    if alias:  # "物业公司", "自来水公司", "社区": what staff call them (the taxonomy's owner_aliases)
        return alias
    # "城管" is 城管/环卫部门 and "市政" 市政部门: the start of one owner's name (or of a part between /);
    # a fragment inside a name ("居委", "12") is not taken, it is suggested
    holding = [o for o in owners if len(re.findall(r"[\u4e00-\u9fff]", typed)) >= 2
               and any(part.startswith(typed) for part in (o, *o.split("/")))]
    if len(holding) == 1:
        return holding[0]
    holding = holding or [o for o in owners if len(typed) >= 2 and typed in o]
    kin = sorted((o for o in owners if len(typed) >= 2 and typed[:2] in o),  # 物业公司 → 物业服务企业
                 key=lambda o: -difflib.SequenceMatcher(None, typed, o).ratio())
    close = holding or kin[:2] or difflib.get_close_matches(typed, owners, n=2, cutoff=0.3)
    hint = f"您是不是要写“{'”或“'.join(close)}”？" if close else ""
    raise StoreError(f"不认识责任主体“{name}”。{hint}可选：{'、'.join(owners)}。"
                     "如需新增，请管理员在分类配置的 owners 中加入。", 400)
