"""Text clean-up before the model sees a message.

The original text is always kept for display; only classifiers and the notes
detector work on the normalised form produced here.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

__all__ = ["has_traditional", "normalize", "strip_pinyin", "to_simplified"]

_TAG = re.compile(r"<[^>]{0,200}>")
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\u00ad]")
_ZERO_WIDTH_CHARS = frozenset([*map(chr, range(0x200B, 0x2010)), *map(chr, range(0x2028, 0x2030)),
                               *map(chr, range(0x2060, 0x2070)), "\ufeff", "\u00ad"])
_TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
# A pinyin gloss after Chinese characters: 孙晓东(sūnxiǎodōng), 社区(qū), 社區（qu）.
# Tone-marked glosses are dropped anywhere; plain lowercase ones only straight after a
# Chinese character, so "(WiFi)" or "(A区)" survive.
_PINYIN_TONED = re.compile(
    rf"[(（]\s*(?=[a-zü{_TONE_VOWELS}' ]*[{_TONE_VOWELS}])[a-zü{_TONE_VOWELS}' ]+\s*[)）]",
    re.IGNORECASE,
)
_PINYIN_PLAIN = re.compile(r"(?<=[\u4e00-\u9fff])[(（]\s*[a-z]{1,30}(?: [a-z]{1,30}){0,5}\s*[)）]")
_CLAUSE = re.compile(r"(?<=[，。！？；：,.!?;:\s])")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


@lru_cache(maxsize=1)
def _converter():
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _char_table() -> tuple[dict[int, str], frozenset[str]]:
    """OpenCC's character table: one-to-one mappings for str.translate, and the ambiguous characters."""
    import opencc

    table, ambiguous = {}, set()
    folder = Path(opencc.__file__).parent / "dictionary"
    for line in (folder / "TSCharacters.txt").read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        choices = values.split(" ")
        if not key:
            continue
        if len(choices) > 1:
            ambiguous.add(key)  # e.g. 覆 → 复 or 覆: only OpenCC's phrase table knows
        elif choices[0] != key:
            table[ord(key)] = choices[0]
    # Characters whose phrase conversion differs from the character table (傢俱 → 家具, not 家俱).
    for line in (folder / "TSPhrases.txt").read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        target = values.split(" ")[0]
        plain = key.translate(table)
        if plain != target:
            ambiguous.update(k for k, p, t in zip(key, plain, target) if p != t)
            if len(plain) != len(target):
                ambiguous.update(key)
    return table, frozenset(ambiguous)


@lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """Characters that OpenCC would change: lets simplified text skip conversion entirely."""
    table, ambiguous = _char_table()
    return frozenset(chr(c) for c in table) | ambiguous


def has_traditional(text: str) -> bool:
    """True when the text holds at least one traditional-only character."""
    return not _traditional_chars().isdisjoint(text)


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese.

    Unambiguous characters go through a C-level str.translate with OpenCC's own table; a text
    with an ambiguous character (覆, 劃, 乾 …) goes through OpenCC's phrase-aware converter,
    which is ~25× slower.
    """
    if not has_traditional(text):
        return text
    table, ambiguous = _char_table()
    if ambiguous.isdisjoint(text):
        return text.translate(table)
    # Only the clauses holding an ambiguous character need the phrase-aware converter.
    return "".join(part.translate(table) if ambiguous.isdisjoint(part) else _converter().convert(part)
                   for part in _CLAUSE.split(text))


def strip_pinyin(text: str) -> str:
    """Drop pinyin glosses such as 孙晓东(sūnxiǎodōng) or 社区(qū), keeping everything else as written."""
    return _PINYIN_PLAIN.sub("", _PINYIN_TONED.sub("", text))


def normalize(text: str) -> str:
    """Return the form the model sees: no markup, NFKC, simplified, single-spaced."""
    if not text:
        return ""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    if not _ZERO_WIDTH_CHARS.isdisjoint(text):
        text = _ZERO_WIDTH.sub("", text)
    if "(" in text or "（" in text:  # pinyin glosses only ever sit in brackets
        text = _PINYIN_TONED.sub("", text)
        text = unicodedata.normalize("NFKC", text)
        text = _PINYIN_PLAIN.sub("", text)
    else:
        text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    text = _SPACES.sub(" ", text)
    if "\n" in text:
        text = _BLANK_LINES.sub("\n", text)
    return text.strip()
