"""amparo.triage.graph: the softmax NaN guards come out, and nothing else changes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from amparo.triage.graph import drop_nan_guards, rewrite
from amparo.triage.model import MODELS

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
helper = onnx.helper
FLOAT = onnx.TensorProto.FLOAT


def _guarded() -> object:
    """scores -> Softmax -> Where(IsNaN(p), 0, p) -> MatMul(values): the exported pattern."""
    nodes = [
        helper.make_node("Softmax", ["scores"], ["p"], axis=-1),
        helper.make_node("IsNaN", ["p"], ["nan"]),
        helper.make_node("Constant", [], ["zero"], value=helper.make_tensor("z", FLOAT, [], [0.0])),
        helper.make_node("Where", ["nan", "zero", "p"], ["guarded"]),
        helper.make_node("MatMul", ["guarded", "values"], ["out"]),
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("scores", FLOAT, [2, 3]),
         helper.make_tensor_value_info("values", FLOAT, [3, 4])],
        [helper.make_tensor_value_info("out", FLOAT, [2, 4])],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model: object, feeds: dict[str, np.ndarray]) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(),  # type: ignore[attr-defined]
                                   providers=["CPUExecutionProvider"])  # fmt: skip
    return np.asarray(session.run(None, feeds)[0])


def test_the_guard_goes_and_the_answer_stays() -> None:
    rng = np.random.default_rng(7)
    feeds = {"scores": rng.normal(size=(2, 3)).astype(np.float32),
             "values": rng.normal(size=(3, 4)).astype(np.float32)}  # fmt: skip
    model = _guarded()
    before = _run(model, feeds)
    assert drop_nan_guards(model) == 1
    assert [n.op_type for n in model.graph.node] == ["Softmax", "MatMul"]  # type: ignore[attr-defined]
    onnx.checker.check_model(model)
    assert np.array_equal(_run(model, feeds), before)
    assert drop_nan_guards(model) == 0  # nothing left to take


def test_a_where_that_is_not_a_guard_stays() -> None:
    model = _guarded()
    where = next(n for n in model.graph.node if n.op_type == "Where")  # type: ignore[attr-defined]
    where.input[2] = "scores"  # Where(IsNaN(p), 0, scores): not p passed through
    assert drop_nan_guards(model) == 0
    assert len(model.graph.node) == 5  # type: ignore[attr-defined]


def test_rewrite_updates_the_card(tmp_path: Path) -> None:
    onnx.save(_guarded(), str(tmp_path / "model.onnx"))
    (tmp_path / "card.json").write_text(json.dumps({"model_id": "edos-a-minilm-int8-000000000000"}))
    card = rewrite(tmp_path)
    assert card["model_id"].startswith("edos-a-minilm-int8-") and card["model_id"] != (
        "edos-a-minilm-int8-000000000000"
    )
    assert card["model_id"].endswith(card["sha256"][:12])
    assert card["rewritten"]["from"] == "edos-a-minilm-int8-000000000000"
    assert json.loads((tmp_path / "card.json").read_text()) == card
    assert rewrite(tmp_path) == card  # a second time changes nothing


@pytest.mark.parametrize("task", ["a", "b", "c"])
def test_the_shipped_models_carry_no_guards(task: str) -> None:
    path = MODELS / task / "model.onnx"
    if not path.exists():
        pytest.skip("no shipped model in this checkout")
    model = onnx.load(str(path))
    assert drop_nan_guards(model) == 0
    card = json.loads((MODELS / task / "card.json").read_text())
    assert card["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert card["model_id"].endswith(card["sha256"][:12])
