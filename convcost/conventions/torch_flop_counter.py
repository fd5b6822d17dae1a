"""PyTorch 2.13's ``torch.utils.flop_counter.FlopCounterMode``: ``get_total_flops()``.

It counts ATen operators, 2 FLOPs per multiply-accumulate, for matrix products and
convolutions only (``mm``, ``addmm``, ``bmm``, ``convolution``, attention kernels): a conv or
linear layer counts 2 × its MACs (a transposed conv by its input size, as convcost), its bias
is not counted, and normalisation, activations, pooling, upsampling and merges count nothing.
"""

from __future__ import annotations

from convcost.conventions.rules import (
    ACTIVATIONS,
    CONVS,
    MERGES,
    POOLS,
    SEPARABLE,
    SHAPE_ONLY,
    UNSUPPORTED_ATTENTION,
    UNSUPPORTED_CUSTOM,
    Convention,
    Rule,
    parts,
    zeros,
)

_TWICE = Rule(
    "2 × MACs (aten convolution / mm); bias adds are not counted",
    lambda site: parts(("conv and linear", 2 * site.macs)),
)

CONVENTION = Convention(
    name="torch",
    tool="torch 2.13.0 (torch.utils.flop_counter.FlopCounterMode)",
    figure="FlopCounterMode().get_total_flops() over one forward pass",
    unit="FLOPs",
    rules={
        **dict.fromkeys(CONVS, _TWICE),
        "conv_transpose": _TWICE,
        "linear": _TWICE,
        "separable": SEPARABLE,
        "attention": UNSUPPORTED_ATTENTION,
        "custom": UNSUPPORTED_CUSTOM,
        **zeros(
            "not a matrix product or convolution: 0",
            *POOLS,
            *ACTIVATIONS,
            "batchnorm",
            "layernorm",
            "groupnorm",
            "instancenorm",
            "upsample",
            "layer_scale",
            *SHAPE_ONLY,
            *MERGES,
        ),
    },
)
