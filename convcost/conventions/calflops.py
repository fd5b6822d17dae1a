"""calflops 0.3.2: ``calculate_flops(model, input_shape)`` (FLOPs, the first value), its
``flops_counter`` module loaded without the transformers stack.

calflops puts the model in eval mode and patches ``torch.nn.functional`` calls and a few
tensor methods (``calflops/pytorch_ops.py``), attributing each call to the module that runs
it: conv 2 × MACs + 1 per output element with a bias; transposed conv 2 × MACs (by the input
size) + C_out per position of the size a *conv* with the same settings would output; linear
2 × MACs without the bias; ``F.relu``, ``F.prelu``, ``F.elu``, ``F.leaky_relu``, ``F.silu``,
``F.gelu``, ``F.softmax`` and every pooling call 1 per input element; ``F.batch_norm`` at
inference 2 per element with affine (1 without); ``F.layer_norm``, ``F.group_norm`` and
``F.instance_norm`` 5 with affine (4 without). ``nn.ReLU6`` calls ``F.hardtanh``, which is not
patched: 0. ``F.interpolate`` counts ∏size (no batch, no channels) when given a size and the
input's elements when given a scale factor (its scaling line discards its result); the preset
assumes ``size=``, as torchvision's segmentation models call it.

calflops cannot run a model without parameters: ``calculate_flops`` patches
``torch.nn.functional`` first, then ``next(model.parameters())`` raises ``StopIteration`` and
the patches stay in place, so every later count in the same process is multiplied. The preset
still counts such a model, as calflops would if it ran.
"""

from __future__ import annotations

import math

from convcost.conventions.rules import (
    CONVS,
    MERGES,
    POOLS,
    SEPARABLE,
    SHAPE_ONLY,
    UNSUPPORTED_ATTENTION,
    UNSUPPORTED_CUSTOM,
    Convention,
    Rule,
    Site,
    affine,
    has_bias,
    parts,
    zeros,
)


def _conv(site: Site) -> tuple[tuple[str, int], ...]:
    if site.channels_last:  # nn.Linear: F.linear counts no bias
        return (("conv and linear", 2 * site.macs),)
    return (
        ("conv and linear", 2 * site.macs),
        ("bias adds", site.outputs if has_bias(site) else 0),
    )


def _transpose_bias(site: Site) -> int:
    """C_out × batch × ∏((in + 2p − d(k − 1) − 1) // s + 1): calflops' conv output formula."""
    if not has_bias(site):
        return 0
    kernel, stride = site.per_axis("kernel"), site.per_axis("stride")
    padding, dilation = site.per_axis("padding"), site.per_axis("dilation")
    positions: int = math.prod(
        (size + 2 * p - (d * (k - 1) + 1)) // s + 1
        for size, k, s, p, d in zip(
            site.input_shape[1:], kernel, stride, padding, dilation, strict=True
        )
    )
    return site.output_shape[0] * site.batch * positions


def _upsample(site: Site) -> int:
    """∏ of the output's spatial size: torchvision passes ``size=`` to ``F.interpolate``."""
    return math.prod(site.output_shape[1:])


def _per_input(family: str, text: str) -> Rule:
    return Rule(text, lambda site: parts((family, site.inputs)))


CONVENTION = Convention(
    name="calflops",
    tool="calflops 0.3.2",
    figure="calculate_flops(model, input_shape)[0] (FLOPs)",
    unit="FLOPs",
    rules={
        **dict.fromkeys(
            CONVS,
            Rule(
                "2 × MACs + 1 per output element with a bias (a channels-last pointwise is "
                "nn.Linear: no bias)",
                lambda site: parts(*_conv(site)),
            ),
        ),
        "conv_transpose": Rule(
            "2 × MACs + C_out per position of the size a conv with these settings would output",
            lambda site: parts(
                ("conv and linear", 2 * site.macs), ("bias adds", _transpose_bias(site))
            ),
        ),
        "linear": Rule(
            "2 × MACs; the bias is not counted",
            lambda site: parts(("conv and linear", 2 * site.macs)),
        ),
        "separable": SEPARABLE,
        **{
            kind: _per_input("activations", f"F.{function}: 1 per input element")
            for kind, function in (
                ("relu", "relu"),
                ("prelu", "prelu"),
                ("elu", "elu"),
                ("leaky_relu", "leaky_relu"),
                ("silu", "silu"),
                ("swish", "silu"),
                ("gelu", "gelu"),
                ("softmax", "softmax"),
            )
        },
        **dict.fromkeys(POOLS, _per_input("pooling", "1 per input element")),
        "batchnorm": Rule(
            "F.batch_norm at inference: 2 per input element (affine)",
            lambda site: parts(("normalisation", 2 * site.inputs)),
        ),
        **dict.fromkeys(
            ("layernorm", "groupnorm", "instancenorm"),
            Rule(
                "5 per input element with affine, 4 without",
                lambda site: parts(("normalisation", (5 if affine(site) else 4) * site.inputs)),
            ),
        ),
        "upsample": Rule(
            "F.interpolate(size=…), as torchvision calls it: ∏size, without batch or channels "
            "(given a scale factor calflops would count the input's elements)",
            lambda site: parts(("upsampling", _upsample(site))),
        ),
        "attention": UNSUPPORTED_ATTENTION,
        "custom": UNSUPPORTED_CUSTOM,
        **zeros(
            "no patched function: 0",
            "relu6",
            "sigmoid",
            "tanh",
            "hardswish",
            "hardsigmoid",
            "mish",
            "layer_scale",
            *SHAPE_ONLY,
        ),
        **zeros("a tensor operator (torch.cat, +, *), not patched: 0", *MERGES),
    },
)
