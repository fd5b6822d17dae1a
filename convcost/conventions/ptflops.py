"""ptflops 0.7.5: ``get_model_complexity_info(model, input_res)`` with its default ``pytorch``
backend (MACs, the first value).

ptflops puts a forward hook on each module whose exact type is in ``MODULES_MAPPING`` *and*
patches some ``torch.nn.functional`` calls (``FUNCTIONAL_MAPPING``). A module whose forward
calls a patched function is counted twice: ``nn.ReLU`` (``F.relu``), ``nn.GELU``, ``nn.ELU``,
``nn.PReLU`` and every max, average and adaptive pooling module. ``nn.ReLU6`` calls
``F.hardtanh`` and ``nn.LeakyReLU`` ``F.leaky_relu``, which are not patched: once.
``nn.SiLU`` and ``nn.Softmax`` have no hook but call patched functions: once. Conv and linear
count MACs plus one add per output element with a bias; batchnorm, instance and group norm 2
per element with affine (1 without); ``nn.LayerNorm`` 1 per element (ptflops looks for an
``affine`` attribute, which LayerNorm does not have) and torchvision's ``LayerNorm2d``
subclass nothing; ``F.interpolate`` 1 per output element.
"""

from __future__ import annotations

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
    has_bias,
    layernorm2d,
    parts,
    zeros,
)


def _with_bias(site: Site) -> tuple[tuple[str, int], ...]:
    return (base_macs(site), ("bias adds", site.outputs if has_bias(site) else 0))


_CONV = Rule("MACs + 1 per output element with a bias", lambda site: parts(*_with_bias(site)))


def _twice(family: str, per: str, text: str) -> Rule:
    def counted(site: Site) -> tuple[tuple[str, int], ...]:
        elements = site.inputs if per == "input" else site.outputs
        return ((family, elements), ("double counts", elements))

    return Rule(text, lambda site: parts(*counted(site)))


def _once(family: str, text: str) -> Rule:
    return Rule(text, lambda site: parts((family, site.inputs)))


_POOL = _twice(
    "pooling",
    "input",
    "1 per input element from the module hook, again from the patched F.*pool* call: 2",
)


def _layernorm(site: Site) -> int:
    return 0 if layernorm2d(site) else site.inputs


CONVENTION = Convention(
    name="ptflops",
    tool="ptflops 0.7.5 (pytorch backend)",
    figure="get_model_complexity_info(model, input_res, backend='pytorch')[0] (MACs)",
    unit="MACs",
    rules={
        **dict.fromkeys(CONVS, _CONV),
        "conv_transpose": _CONV,
        "linear": _CONV,
        "separable": SEPARABLE,
        "relu": _twice(
            "activations", "output", "1 per element from the nn.ReLU hook, again from F.relu: 2"
        ),
        "gelu": _twice(
            "activations", "output", "1 per element from the nn.GELU hook, again from F.gelu: 2"
        ),
        "elu": _twice(
            "activations", "output", "1 per element from the nn.ELU hook, again from F.elu: 2"
        ),
        "prelu": _twice(
            "activations", "output", "1 per element from the nn.PReLU hook, again from F.prelu: 2"
        ),
        "relu6": _once(
            "activations", "1 per element (nn.ReLU6 calls F.hardtanh, which is not patched)"
        ),
        "leaky_relu": _once(
            "activations", "1 per element (nn.LeakyReLU calls F.leaky_relu, not patched)"
        ),
        "silu": _once("activations", "1 per element from F.silu (nn.SiLU has no hook)"),
        "swish": _once("activations", "1 per element from F.silu (nn.SiLU has no hook)"),
        "softmax": _once("activations", "1 per element from F.softmax (nn.Softmax has no hook)"),
        **dict.fromkeys(
            (
                "maxpool",
                "avgpool",
                "global_avgpool",
                "global_maxpool",
                "adaptive_avgpool",
                "adaptive_maxpool",
            ),
            _POOL,
        ),
        **dict.fromkeys(
            ("batchnorm", "groupnorm", "instancenorm"),
            Rule(
                "1 per input element, 2 with affine",
                lambda site: parts(("normalisation", (2 if affine(site) else 1) * site.inputs)),
            ),
        ),
        "layernorm": Rule(
            "nn.LayerNorm (in a channels-last run): 1 per input element, it has no `affine` "
            "attribute; LayerNorm2d (a feature map's channels elsewhere): 0, not in the table",
            lambda site: parts(("normalisation", _layernorm(site))),
        ),
        "upsample": Rule(
            "F.interpolate: 1 per output element",
            lambda site: parts(("upsampling", site.outputs)),
        ),
        "attention": UNSUPPORTED_ATTENTION,
        "custom": UNSUPPORTED_CUSTOM,
        **zeros(
            "no hook and no patched function: 0",
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
