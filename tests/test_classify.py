"""The classifier: shipped model behaviour, fast paths equal to sklearn's, explanations, precedence."""

import numpy as np
import pytest

from triage import normalize
from triage.compact import export

TEXTS = ["3号楼电梯坏了两天", "楼道里有人飞线充电", "谢谢社区", "", "狗叫扰民很厉害", "停車場沒有車位"]


def test_compact_form_equals_sklearn(model):
    """Answers come from the compact form; it must give scikit-learn's own numbers."""
    clean = [normalize(t) for t in TEXTS + ["a", "  \n ", "3号楼 电梯   坏了"]]
    for engine, pipeline in ((model.engine, model.pipeline), (model.roles_engine, model.roles)):
        ours, theirs = engine.features(clean), pipeline.named_steps["features"].transform(clean)
        assert ours.shape == theirs.shape and abs(ours - theirs).max() < 1e-12
        assert np.allclose(engine.proba(ours), pipeline.named_steps["clf"].predict_proba(theirs), atol=1e-12)
        assert engine.classes == [str(c) for c in pipeline.classes_]
    assert export(model.pipeline).coef.shape == model.engine.coef.shape


def test_answering_does_not_import_sklearn():
    import subprocess
    import sys

    code = ("import sys, datetime as dt; from triage import Model; m = Model.load(); "
            "m.classify('3号楼电梯坏了', dt.datetime(2026, 11, 25, 9, 30)); print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_predictions_have_confidence_review_and_explanation(model):
    preds = model.predict(TEXTS)
    assert [p.category for p in preds[:3]] == ["facilities", "charging", "other"]
    for p in preds:
        assert 0 <= p.confidence <= 1 and p.needs_review == (p.confidence < model.taxonomy.review_threshold)
    assert any("充电" in w for w in preds[1].explanation)
    assert preds[3].category == "other" and preds[3].confidence == 0.0  # empty text never raises


def test_secondary_categories_for_two_problems(model):
    p = model.predict(["小区停车位太少，电动车充电桩也不够，晚上回来车没地方停也充不上电"])[0]
    assert {p.category, *p.secondary} >= {"parking", "charging"}


def test_precedence_fire_lane_blocked_by_cars_is_safety(model):
    p = model.predict(["好几辆私家车天天停在消防通道上，车位太少了没地方停"])[0]
    assert p.category == "safety" and "parking" in p.secondary


def test_precedence_flying_cable_stays_charging(model):
    p = model.predict(["楼上有人从窗户飞线充电，电线垂到一楼，很危险，消防隐患"])[0]
    assert p.category == "charging"


def test_traditional_and_simplified_agree(model):
    a, b = model.predict(["停車場沒有車位了，請儘快處理", "停车场没有车位了，请尽快处理"])
    assert a.category == b.category == "parking"


@pytest.mark.parametrize("text, category", [
    # Hong Kong words for what the mainland says otherwise (升降機 电梯, 管理處 物业, 走火通道 消防通道, 水喉 水龙头):
    # a 繁體 transcript read 升降機 as a neighbour dispute (notes_blind17)
    ("我住嗰座啲升降機又壞咗，老人家要行十幾層樓梯", "facilities"),
    ("管理公司年年加管理費，保安又成日唔見人", "property"),
    ("走火通道又俾人放滿單車，消防門都推唔開", "safety"),
    ("今朝開始水喉冇水，成座樓都係咁", "utilities"),
])
def test_hong_kong_words_are_understood(model, text, category):
    assert model.predict([text])[0].category == category


EXPLAINED = [
    ("楼道里有人飞线充电，太危险了", "飞线充电"),
    ("东门路灯坏了半个月，晚上漆黑一片", "路灯"),
    ("邻居装修天天砸墙，说了也不听", "装修"),
]


@pytest.mark.parametrize("text, word", EXPLAINED)
def test_explanations_are_words_staff_can_read(model, text, word):
    why = model.predict([text])[0].explanation
    assert word in why, why
    assert all(w.isalnum() and len(w) >= 2 for w in why)  # no "充电," or "，砸" fragments


def test_compact_coefficients_are_laid_out_for_fast_scoring(model):
    # features @ coef.T is fast only when coef.T is C-contiguous; ridge's coef_ comes the other way round
    assert model.engine.coef.flags["F_CONTIGUOUS"] and model.engine.coef.T.flags["C_CONTIGUOUS"]


def test_nb_svm_folds_into_one_linear_model():
    """NBSVC's single coef_ scores exactly what the plain SVM plus the rescaled NB-SVMs score."""
    from scipy import sparse
    from sklearn.svm import LinearSVC

    from triage.nbsvm import NBSVC

    rng = np.random.default_rng(0)
    x = sparse.random(120, 40, density=0.2, random_state=1, format="csr")
    y = np.array(["a", "b", "c"])[rng.integers(0, 3, 120)]
    weight = rng.uniform(0.5, 3, 120)
    model = NBSVC(nb_weight=0.5).fit(x, y, sample_weight=weight)
    plain = LinearSVC(C=0.5, class_weight="balanced").fit(x, y, sample_weight=weight)
    present = (x > 0).astype(float)
    expected = plain.decision_function(x)
    for k, label in enumerate(model.classes_):
        mine = y == label
        pos = present[mine].T @ weight[mine] + 1
        neg = present[~mine].T @ weight[~mine] + 1
        ratio = np.log((pos / pos.sum()) / (neg / neg.sum()))
        nb = LinearSVC(C=0.5, class_weight="balanced", max_iter=5000)
        nb.fit(x.multiply(ratio).tocsr(), mine.astype(int), sample_weight=weight)
        expected[:, k] += 0.5 * nb.decision_function(x.multiply(ratio).tocsr())
    assert np.allclose(model.decision_function(x), expected)
    assert list(model.predict(x)) == list(model.classes_[expected.argmax(1)])
    two = NBSVC().fit(x, np.where(y == "a", "a", "b"))  # two classes: one score, as LinearSVC gives
    assert two.decision_function(x).shape == (120,) and set(two.predict(x)) <= {"a", "b"}


def test_the_shipped_model_is_the_nb_svm_pair(model):
    import gzip
    import pickle

    from triage.nbsvm import NBSVC

    with gzip.open(model.path / "model.pkl.gz", "rb") as f:
        pipeline = pickle.load(f)
    assert isinstance(pipeline.named_steps["clf"].calibrated_classifiers_[0].estimator, NBSVC)


def test_two_categories_have_a_compact_form_too():
    """One row of weights for two classes, as scikit-learn keeps it; the answers are scikit-learn's."""
    from triage.classify import build_pipeline

    texts = [f"第{i}段马路坑洼积水" for i in range(12)] + [f"第{i}家饭店夜里吵闹到凌晨" for i in range(12)]
    pipeline = build_pipeline().fit(texts, ["road"] * 12 + ["noise"] * 12)
    engine = export(pipeline)
    probe = ["马路上有个大坑", "饭店半夜还在吵", "不相干的话"]
    assert np.allclose(engine.proba(engine.features(probe)), pipeline.predict_proba(probe), atol=1e-12)


def test_a_model_file_cannot_run_code_when_loaded(tmp_path, model):
    """From an audit: a pickle swapped in with a matching hash in card.json ran its payload. Answering
    reads plain arrays now (allow_pickle=False), and a pickle-only folder loads only through the registry."""
    import json
    import pickle
    import shutil

    from triage import Model, ModelError
    from triage.model import file_sha256

    folder = tmp_path / "m"
    shutil.copytree(model.path, folder)
    marker = tmp_path / "ran.txt"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (folder / "compact.npz").write_bytes(pickle.dumps(Payload()))
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    card["files"]["compact.npz"] = file_sha256(folder / "compact.npz")
    (folder / "card.json").write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelError, match="无法读取"):
        Model.load(folder)
    del card["files"]["compact.npz"]  # an old layout: the pipelines only
    (folder / "card.json").write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelError, match="旧格式"):
        Model.load(folder)
    assert not marker.exists()
    for bad in ([], {"files": ["model.pkl.gz"]}, {"files": {"model.pkl.gz": "x"}, "labels": 3}):
        (folder / "card.json").write_text(json.dumps(bad), encoding="utf-8")
        with pytest.raises(ModelError, match="格式不对"):
            Model.load(folder)


@pytest.mark.parametrize("text", ["好", "？？1111", "asdf 123", "喂"])
def test_too_little_to_go_on_is_flagged_for_a_person(model, text):
    """From the hotline-desk trial: a ticket reading “好” was filed as 其他 at 94 % without a review mark."""
    import datetime as dt

    result = model.classify(text, dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    assert result.needs_review and any("内容过短" in n for n in result.notes)
