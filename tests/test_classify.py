"""The classifier: shipped model behaviour, fast paths equal to sklearn's, explanations, precedence."""

import numpy as np

from triage import normalize
from triage.classify import _features, calibrated_proba

TEXTS = ["3号楼电梯坏了两天", "楼道里有人飞线充电", "谢谢社区", "", "狗叫扰民很厉害", "停車場沒有車位"]


def test_fast_paths_equal_sklearn(model):
    clean = [normalize(t) for t in TEXTS]
    union = model.pipeline.named_steps["features"]
    ours, theirs = _features(model.pipeline, clean), union.transform(clean)
    assert (ours != theirs).nnz == 0
    expected = model.pipeline.named_steps["clf"].predict_proba(theirs)
    assert np.allclose(calibrated_proba(model.pipeline, ours), expected, atol=1e-12)


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
