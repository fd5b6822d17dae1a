"""``--max-spec-bytes`` and ``--max-yaml-nodes``: the input bounds of every command that loads
specs (``analyze``, ``check``, ``compare``, ``explain``, ``report``, ``sweep``, ``export``), raised on
request (a literal million-layer stack is 28 MiB and 5.7 million YAML nodes, past the defaults;
docs/limits.md)."""

from __future__ import annotations

from typing import Annotated

from convcost.cli.declare import Option, UsageError
from convcost.limits import MAX_INT, Limits
from convcost.valueclasses import replace

MaxSpecBytesOption = Annotated[
    str | None,
    Option(
        metavar="SIZE",
        help="Refuse (exit 4) a spec file larger than SIZE (bytes, or 64MiB) [default: 16MiB].",
        show_default=False,
    ),
]
MaxYamlNodesOption = Annotated[
    int | None,
    Option(
        min=1,
        max=MAX_INT,
        help="Refuse (exit 4) a YAML document of more nodes than this, aliases expanded "
        "[default: 1000000].",
        show_default=False,
    ),
]


def input_limits(bounds: Limits, max_spec_bytes: str | None, max_yaml_nodes: int | None) -> Limits:
    """``bounds`` with the spec-size bounds the flags give (unchanged where a flag is absent)."""
    if max_spec_bytes is not None:
        from convcost.units import UnitError, parse_bytes  # the flag's units only

        try:
            size = parse_bytes(max_spec_bytes)
        except UnitError as error:
            raise UsageError(str(error), param_hint="--max-spec-bytes") from None
        if size < 1:
            raise UsageError("must be at least 1 byte", param_hint="--max-spec-bytes")
        bounds = replace(bounds, max_spec_bytes=size)
    if max_yaml_nodes is not None:
        bounds = replace(bounds, max_yaml_nodes=max_yaml_nodes)
    return bounds
