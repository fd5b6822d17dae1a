"""Escaping and tiny element helpers: every user string reaches HTML or SVG through
:func:`text` or :func:`attribute`."""

from __future__ import annotations

import html

from convcost.render.escape import quoted

LABEL_LIMIT = 300
"""Characters of a user string shown at most (longer names are cut with their length)."""


def text(value: object, *, limit: int = LABEL_LIMIT) -> str:
    """``value`` as element text or attribute value: control and bidi characters written as
    ``\\x1b``-style escapes, cut past ``limit`` characters, and ``& < > " '`` as entities."""
    return html.escape(quoted(value, limit=limit), quote=True)


def attribute(name: str, value: object, *, limit: int = LABEL_LIMIT) -> str:
    """`` name="value"`` (with its leading space), the value escaped."""
    return f' {name}="{text(value, limit=limit)}"'


def short(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters with an ellipsis (before escaping)."""
    return value if len(value) <= limit else value[: limit - 1] + "…"
