"""ONNX import of the resampling kinds: Resize → upsample, DepthToSpace → pixel_shuffle, a Pad
of its own → pad, on torch modules exported by both exporters; the imported spec runs on the
executor and equals the module's output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import convcost
from convcost.executor.run import prepare
from tests.conftest import require

torch = require("torch")
require("onnx")

from onnx import helper  # noqa: E402

from convcost.importer import import_torch  # noqa: E402
from tests.onnx_graphs import ints, save, unsupported  # noqa: E402

F = torch.nn.functional


class Resampling(torch.nn.Module):
    def forward(self, x: Any) -> Any:
        x = F.pad(x, (1, 2, 0, 1), mode="reflect")  # [4, 6, 6] → [4, 7, 9]
        x = F.interpolate(x, scale_factor=2, mode="bilinear")  # [4, 14, 18]
        x = F.interpolate(x, size=(15, 20), mode="bicubic", align_corners=True)
        x = F.pixel_shuffle(x, 2)  # [1, 30, 40]
        x = F.interpolate(x, scale_factor=2)  # nearest: [1, 60, 80]
        x = F.pad(x, (1, 1, 1, 1), mode="replicate")
        return F.pad(x, (0, 1, 2, 0), value=0.5)  # [1, 64, 83]


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
def test_resampling_module_imports_and_runs_as_torch(exporter: Any) -> None:
    text = import_torch(Resampling(), (4, 6, 6), exporter=exporter, flat=True)
    spec = convcost.parse_spec(text)
    kinds = [layer.kind for layer in convcost.analyze(spec).layers]
    assert kinds == ["pad", "upsample", "upsample", "pixel_shuffle", "upsample", "pad", "pad"]
    x = np.random.default_rng(0).standard_normal((2, 4, 6, 6))
    expected = Resampling()(torch.from_numpy(x)).numpy()
    got = prepare(convcost.build(spec, spec.variants[0]), dtype="float64").output(x)
    assert got.shape == expected.shape == (2, 1, 64, 83)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("node", "label"),
    [
        (
            helper.make_node("DepthToSpace", ["x"], ["y"], name="n", blocksize=2, mode="DCR"),
            "DepthToSpace (DCR order; PyTorch's pixel_shuffle is CRD)",
        ),
        (
            helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], name="n", mode="nearest"),
            "Resize (nearest other than PyTorch's: asymmetric, floor)",
        ),
        (
            helper.make_node("Pad", ["x", "pads"], ["y"], name="n", mode="wrap"),
            "Pad (wrap)",
        ),
        (
            helper.make_node("Pad", ["x", "channel_pads"], ["y"], name="n"),
            "Pad (of the batch or channel axis, or negative)",
        ),
    ],
)
def test_what_does_not_map_is_named(tmp_path: Path, node: Any, label: str) -> None:
    inits = [
        ints("sizes", [1, 4, 8, 8]),
        ints("pads", [0, 0, 1, 1, 0, 0, 1, 1]),
        ints("channel_pads", [0, 1, 0, 0, 0, 0, 0, 0]),
    ]
    path = save(tmp_path / "m.onnx", [node], [1, 4, 4, 4], initializers=inits)
    unsupported(path, label)
