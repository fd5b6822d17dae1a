"""thop 0.1.1.post2209072238: ``profile(model, inputs)`` (MACs, the first value).

thop puts a forward hook on each leaf module whose exact type is in ``register_hooks``
(``thop/profile.py``, rules in ``thop/vision/basic_hooks.py``) and sums them in float64: conv
and transposed conv count output elements × C_in/groups × ∏kernel, so a transposed conv is
counted by its *output* size; linear in_features × output elements; no bias adds anywhere.
Batchnorm, ``nn.LayerNorm`` and instance norm count 2 per element, doubled with affine (4);
group norm and torchvision's ``LayerNorm2d`` have no rule (0). ReLU, ReLU6, LeakyReLU, max
pooling, dropout and pixel shuffle are registered as zero; PReLU counts 1 per element in eval
mode; ``nn.Softmax`` (3·n − 1) per softmax of n features; average pooling 1 per output
element; adaptive average pooling (∏(input/output size) + 1) per output element, computed in
float64 and truncated. Functional calls (``F.interpolate``, ``+``) are not seen.
"""

from __future__ import annotations

import math

from convcost.conventions.rules import (
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
    layernorm2d,
    parts,
    zeros,
)

_MACS = Rule(
    "output elements × C_in/groups × ∏kernel: the MACs, no bias adds",
    lambda site: parts(base_macs(site)),
)


def _transpose(site: Site) -> int:
    """thop's count minus convcost's MACs: the same weight per position, by output size."""
    kernel = math.prod(site.per_axis("kernel"))
    groups = site.integer("groups", 1)
    return site.outputs * (site.channels // groups) * kernel - site.macs


def _adaptive(site: Site) -> int:
    """``int((∏ in/out + 1) × output elements)`` in float64, thop's order of operations."""
    kernel = 1.0
    for size, out in zip(site.input_shape[1:], site.output_shape[1:], strict=True):
        kernel *= float(size) / float(out)
    return int((kernel + 1.0) * site.outputs)


def _norm(site: Site) -> int:
    if site.kind == "groupnorm" or (site.kind == "layernorm" and layernorm2d(site)):
        return 0
    return 2 * site.inputs * (2 if affine(site) else 1)


def _softmax(site: Site) -> int:
    features = site.channels
    return site.inputs // features * (3 * features - 1)


CONVENTION = Convention(
    name="thop",
    tool="thop 0.1.1.post2209072238",
    figure="profile(model, inputs=(x,))[0] (MACs)",
    unit="MACs",
    rules={
        **dict.fromkeys(CONVS, _MACS),
        "linear": Rule(
            "in_features × output elements: the MACs, no bias adds",
            lambda site: parts(base_macs(site)),
        ),
        "conv_transpose": Rule(
            "OUTPUT elements × C_in/groups × ∏kernel (count_convNd, as for a conv)",
            lambda site: parts(base_macs(site), ("transposed conv", _transpose(site))),
        ),
        "separable": SEPARABLE,
        **dict.fromkeys(
            ("batchnorm", "layernorm", "instancenorm", "groupnorm"),
            Rule(
                "batchnorm, nn.LayerNorm, instance norm: 2 per input element, ×2 with affine; "
                "group norm and LayerNorm2d (a feature map's channels outside a channels-last "
                "run): no rule, 0",
                lambda site: parts(("normalisation", _norm(site))),
            ),
        ),
        "prelu": Rule(
            "1 per input element (eval mode)",
            lambda site: parts(("activations", site.inputs)),
        ),
        "softmax": Rule(
            "(3·C − 1) per position: C exps, C − 1 adds, C divides",
            lambda site: parts(("activations", _softmax(site))),
        ),
        "avgpool": Rule("1 per output element", lambda site: parts(("pooling", site.outputs))),
        **dict.fromkeys(
            ("global_avgpool", "adaptive_avgpool"),
            Rule(
                "(∏(input/output size) + 1) per output element, in float64, truncated",
                lambda site: parts(("pooling", _adaptive(site))),
            ),
        ),
        "attention": UNSUPPORTED_ATTENTION,
        "custom": UNSUPPORTED_CUSTOM,
        **zeros(
            "registered as zero, or no rule: 0",
            "maxpool",
            "global_maxpool",
            "adaptive_maxpool",
            "relu",
            "relu6",
            "sigmoid",
            "swish",
            "silu",
            "gelu",
            "tanh",
            "hardswish",
            "hardsigmoid",
            "mish",
            "leaky_relu",
            "elu",
            "layer_scale",
            *SHAPE_ONLY,
        ),
        **zeros("a functional call (F.interpolate), not a module: 0", "upsample"),
        **zeros("a tensor operator, not a module: 0", *MERGES),
    },
)
