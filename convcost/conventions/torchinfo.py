"""torchinfo 1.8.0: ``summary(model, input_size).total_mult_adds`` ("Total mult-adds").

torchinfo counts a leaf module from its parameters, not from the operation it runs
(``LayerInfo.calculate_macs``): each parameter named ``weight`` or ``bias`` adds its size times
the output's batch and, for a class whose name contains ``Conv``, times the output's spatial
size. So a conv counts (weights + biases) × output positions, a transposed conv too (by its
*output* size, not its input's), and every other module with weights counts batch ×
parameters, whatever the size of its input: batchnorm and layernorm 2·C, a linear layer
in·out + out once per sample even when it runs at every position of a channels-last map.
Modules without parameters count nothing.
"""

from __future__ import annotations

from convcost.conventions.rules import (
    MERGES,
    POOLS,
    SEPARABLE,
    SHAPE_ONLY,
    UNSUPPORTED_ATTENTION,
    UNSUPPORTED_CUSTOM,
    WEIGHTLESS_ACTIVATIONS,
    Convention,
    Rule,
    Site,
    base_macs,
    channels_last_linear,
    parts,
    spatial_outputs,
    zero,
    zeros,
)


def _conv(site: Site) -> tuple[tuple[str, int], ...]:
    positions = spatial_outputs(site)
    return (base_macs(site), ("bias adds", site.biases * positions))


def _conv_transpose(site: Site) -> tuple[tuple[str, int], ...]:
    positions = spatial_outputs(site)
    return (
        base_macs(site),
        ("transposed conv", site.weights * positions - site.macs),
        ("bias adds", site.biases * positions),
    )


def _pointwise(site: Site) -> tuple[tuple[str, int], ...]:
    return _linear(site) if site.channels_last else _conv(site)


def _linear(site: Site) -> tuple[tuple[str, int], ...]:
    counted = site.batch * (site.weights + site.biases)
    if channels_last_linear(site):
        return (base_macs(site), ("channels-last linear", counted - site.macs))
    return (base_macs(site), ("bias adds", site.batch * site.biases))


def _parameters(family: str) -> Rule:
    return Rule(
        "batch × its parameter count (2·C with affine), whatever the input's size",
        lambda site: parts((family, site.batch * (site.weights + site.biases))),
    )


CONVENTION = Convention(
    name="torchinfo",
    tool="torchinfo 1.8.0",
    figure="Total mult-adds of torchinfo.summary(model, input_size)",
    unit="MACs",
    rules={
        "conv": Rule(
            "(weights + biases) × batch × output positions: MACs plus one add per output element with a bias",
            lambda site: parts(*_conv(site)),
        ),
        "depthwise": Rule(
            "as conv: (weights + biases) × batch × output positions",
            lambda site: parts(*_conv(site)),
        ),
        "pointwise": Rule(
            "as conv: (weights + biases) × batch × output positions; in a channels-last run "
            "(ConvNeXt's nn.Linear after nn.LayerNorm) as linear: batch × (in·out + out), "
            "the positions not counted",
            lambda site: parts(*_pointwise(site)),
        ),
        "separable": SEPARABLE,
        "conv_transpose": Rule(
            "(weights + biases) × batch × OUTPUT positions: the MACs scaled by output/input size",
            lambda site: parts(*_conv_transpose(site)),
        ),
        "linear": Rule(
            "batch × (in·out + out), once per sample: on a channels-last map the positions are not counted",
            lambda site: parts(*_linear(site)),
        ),
        "batchnorm": _parameters("normalisation"),
        "layernorm": _parameters("normalisation"),
        "groupnorm": _parameters("normalisation"),
        "instancenorm": _parameters("normalisation"),
        "prelu": _parameters("activations"),
        "layer_scale": zero(
            "its γ is a parameter of the enclosing block (torchvision's CNBlock), not of a leaf module: 0"
        ),
        "attention": UNSUPPORTED_ATTENTION,
        "custom": UNSUPPORTED_CUSTOM,
        **zeros(
            "a module without weights: 0",
            *POOLS,
            *WEIGHTLESS_ACTIVATIONS,
            "upsample",
            *SHAPE_ONLY,
        ),
        **zeros("a tensor operator, not a module: 0", *MERGES),
    },
)
