"""The ONNX plugin loads a user's model: a tiny one built here with onnx.helper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from dothi.detectors.base import Box
from dothi.detectors.configs import OnnxConfig
from dothi.detectors.registry import build

DETECTIONS = np.array(
    [[0.25, 0.5, 0.5, 1.0, 0.9, 1], [0.0, 0.0, 0.1, 0.1, 0.2, 0]], dtype=np.float32
)


def _tiny_model(path: Path) -> Path:
    """A model that reads the image (mean × 0) and answers two fixed detections."""
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
            helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
            helper.make_node("Add", ["fixed", "nothing"], ["detections"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("detections", TensorProto.FLOAT, [2, 6])],
        initializer=[
            helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
            helper.make_tensor("fixed", TensorProto.FLOAT, [2, 6], DETECTIONS.flatten().tolist()),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_a_user_model_loads_and_its_boxes_come_back_in_frame_pixels(tmp_path: Path) -> None:
    config = OnnxConfig(
        path=_tiny_model(tmp_path / "tiny.onnx"), width=32, height=32, labels=["person", "car"]
    )
    detector = build(config)
    found = detector.detect(np.zeros((360, 640, 3), np.uint8))
    assert [(d.label, d.box) for d in found] == [("car", Box(160, 180, 320, 360))]
    assert abs(found[0].score - 0.9) < 1e-6
