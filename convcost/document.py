"""Read a spec document safely: its text (:mod:`convcost.spec_bytes`) into a located tree.

A document in the plain subset of YAML that generated and bundled specs are written in is
read line by line (:mod:`convcost.plainyaml`), its scalars resolved without PyYAML
(:mod:`convcost.yaml_scalars`); any other document, and every invalid one, is read from
libyaml's events (:mod:`convcost.yaml_events`, the only module that imports ``yaml``, imported
here only then). Both make the same tree, and every error comes from the second.
"""

from __future__ import annotations

from collections.abc import Callable

from convcost.gcpause import paused_gc
from convcost.limits import Limits
from convcost.plainyaml import Declined, read_plain
from convcost.tree import Scalar, Value
from convcost.yaml_scalars import Scalars


def compose(
    text: str,
    source: str,
    limits: Limits,
    *,
    on_top_key: Callable[[Scalar], None] | None = None,
) -> Value | None:
    """The document as a located tree, or ``None`` when it is empty.

    ``on_top_key`` sees each key of a top-level mapping as soon as it is read, so that a
    misspelt key on line 4 is reported before a huge rest of the file is parsed.
    """
    scalars = Scalars()
    with paused_gc():  # the tree is built once and kept
        try:
            root = read_plain(text, source, scalars.construct, limits.max_yaml_nodes, on_top_key)
        except Declined:
            root = None
        if root is not None:
            return root
        from convcost.yaml_events import Composer, compose_events  # noqa: PLC0415 (PyYAML)

        return compose_events(text, source, Composer(source, limits, on_top_key, scalars))
