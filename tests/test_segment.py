"""Golden segmentation, pinned to jieba 0.42.1 and our domain dictionary."""

import jieba
import pytest

from triage.segment import USERDICT, cut, tokenizer, words

GOLDEN = [
    ("楼道里飞线充电太危险了", ["楼道", "里", "飞线充电", "太", "危险", "了"]),
    ("僵尸车占了好几个停车位", ["僵尸车", "占", "了", "好几个", "停车位"]),
    ("网格员在板凳会上说消防通道被堵", ["网格员", "在", "板凳会", "上", "说", "消防通道", "被", "堵"]),
    ("物业费涨了业委会也不管", ["物业费", "涨", "了", "业委会", "也", "不管"]),
    ("高空抛物砸坏了车棚顶", ["高空抛物", "砸坏", "了", "车棚", "顶"]),
    ("小区的垃圾分类做得不好", ["小区", "的", "垃圾分类", "做", "得", "不好"]),
]


def test_pinned_jieba_version():
    assert jieba.__version__ == "0.42.1"


@pytest.mark.parametrize("text, expected", GOLDEN)
def test_golden_segmentation(text, expected):
    assert cut(text) == expected


def test_domain_dictionary_is_large_and_private():
    terms = [line.split()[0] for line in USERDICT.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(set(terms)) >= 200
    for term in ("充电桩", "飞线充电", "网格员", "板凳会", "物业费", "消防通道", "僵尸车", "车棚", "业委会", "高空抛物"):
        assert term in terms
    # our words must not leak into jieba's global tokenizer
    assert tokenizer() is not jieba.dt
    assert "飞线充电" not in jieba.dt.FREQ


def test_words_drop_punctuation():
    assert words("电梯坏了！！，。") == ["电梯", "坏", "了"]


def _jieba_words(text):
    return [w for w in tokenizer().cut(text, HMM=False) if w[0].isalnum() or w[0] == "_"]


EDGE_CASES = [
    "", "。。。", "A3栋502室漏水", "abc 12 x", "3号楼，B座。C", "WiFi密码是a1b2", "100%满意+1",
    "空調壞了", "①号楼②单元", "ｱｲｳ半角", "  \t\n", "😀😀电梯", "x", "的", "Ｅ栋",
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_words_match_jieba_on_edge_cases(text):
    assert words(text) == _jieba_words(text)


def test_words_match_jieba_on_every_training_text_and_note():
    from pathlib import Path

    from triage.examples import default_training_files, load_examples
    from triage.normalize import normalize

    texts = [e.text for e in load_examples(default_training_files())]
    texts += [p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("notes*/*.txt")]
    assert len(texts) > 5000
    for text in texts:
        for variant in (text, normalize(text)):
            assert words(variant) == _jieba_words(variant), variant[:80]
