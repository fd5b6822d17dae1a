"""fvcore 0.1.5.post20221221: ``FlopCountAnalysis(model, inputs).total()``.

fvcore traces the model and counts ATen operators with the handles of
``fvcore.nn.flop_count._DEFAULT_SUPPORTED_OPS``, one "flop" per multiply-accumulate: conv and
transposed conv (by the input size for the latter, as convcost) and linear count their MACs
without the bias; ``batch_norm`` at inference 2 per element with affine (1 without);
``layer_norm`` and ``group_norm`` 5 per element with affine (4 without), ``instance_norm`` the
same; ``adaptive_avg_pool2d`` 1 per input element; ``upsample_nearest2d`` 1 and
``upsample_bilinear2d`` 4 per output element. Every other operator (ReLU, max and average
pooling, the 1-D and 3-D variants of the ones above, adds, multiplies) is ignored or reported
as unsupported and counts 0.
"""

from __future__ import annotations

from convcost.conventions.rules import (
    ACTIVATIONS,
    CONVS,
    MERGES,
    SEPARABLE,
    SHAPE_ONLY,
    UNSUPPORTED_ATTENTION,
    UNSUPPORTED_CUSTOM,
    Convention,
    Rule,
    Site,
    affine,
    base_macs,
    parts,
    zeros,
)

_MACS = Rule("MACs; bias adds are not counted", lambda site: parts(base_macs(site)))


def _planar(site: Site) -> bool:
    """A 2-D feature map: fvcore handles only the ``…2d`` pooling and upsampling operators."""
    return len(site.input_shape) == 3


def _upsample(site: Site) -> int:
    if not _planar(site):
        return 0
    mode = site.setting("mode", "nearest")
    return {"nearest": 1, "bilinear": 4}.get(str(mode), 0) * site.outputs


CONVENTION = Convention(
    name="fvcore",
    tool="fvcore 0.1.5.post20221221",
    figure="FlopCountAnalysis(model, inputs).total() (one flop per fused multiply-add)",
    unit="MACs",
    rules={
        **dict.fromkeys(CONVS, _MACS),
        "conv_transpose": _MACS,
        "linear": _MACS,
        "separable": SEPARABLE,
        "batchnorm": Rule(
            "aten::batch_norm at inference: 2 per input element (affine)",
            lambda site: parts(("normalisation", 2 * site.inputs)),
        ),
        **dict.fromkeys(
            ("layernorm", "groupnorm", "instancenorm"),
            Rule(
                "5 per input element with affine, 4 without",
                lambda site: parts(("normalisation", (5 if affine(site) else 4) * site.inputs)),
            ),
        ),
        **dict.fromkeys(
            ("global_avgpool", "adaptive_avgpool"),
            Rule(
                "aten::adaptive_avg_pool2d: 1 per input element (0 for 1-D and 3-D maps)",
                lambda site: parts(("pooling", site.inputs if _planar(site) else 0)),
            ),
        ),
        "upsample": Rule(
            "upsample_nearest2d 1, upsample_bilinear2d 4 per output element; other modes and ranks 0",
            lambda site: parts(("upsampling", _upsample(site))),
        ),
        "attention": UNSUPPORTED_ATTENTION,
        "custom": UNSUPPORTED_CUSTOM,
        **zeros(
            "an ignored or unsupported operator: 0",
            "maxpool",
            "avgpool",
            "global_maxpool",
            "adaptive_maxpool",
            *ACTIVATIONS,
            "layer_scale",
            *SHAPE_ONLY,
            *MERGES,
        ),
    },
)
