"""Escaping of user-written text (names, paths, messages) for each output it can reach.

Spec names are validated at load (a documented set of printable characters), but file paths, baseline contents and messages quoting them are not: every renderer passes
user text through the function for its format, so no input can style a terminal, run a
spreadsheet formula, break a markdown table or issue a GitHub Actions command.
"""

from __future__ import annotations

import re

_UNPRINTABLE = r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
"""What :func:`printable` escapes; compiled on the first text outside printable ASCII."""


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """Control, bidi and line-separator characters written as ``\\x1b``-style escapes."""
    if text.isascii() and text.isprintable():
        return text  # U+0020 to U+007E: nothing to escape
    return re.sub(_UNPRINTABLE, _escape_char, text)


def quoted(value: object, *, limit: int = 200) -> str:
    """A path or name as a one-line message quotes it: escaped, and cut past ``limit``
    characters (a 5,000-character argument stays a readable line)."""
    text = str(value)
    if len(text) > limit:
        return f"{printable(text[: limit - 20])}… ({len(text)} characters)"
    return printable(text)


def markup(text: str) -> str:
    """Text for a rich renderable that interprets markup: brackets escaped, printable.

    For text a tag follows (``[bold]…[/]``): trailing backslashes are doubled, since rich
    halves a run of backslashes before a tag (its ``escape`` leaves ``x\\\\`` as it is). Where
    no markup is needed, a :class:`rich.text.Text` of :func:`printable` text is simpler.
    """
    from rich.markup import escape  # noqa: PLC0415  (JSON, CSV and messages load no rich)

    shown = printable(text)
    body = shown.rstrip("\\")
    return escape(body) + "\\" * (2 * (len(shown) - len(body)))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A CSV cell no spreadsheet runs as a formula (OWASP: prefix a quote to ``= + - @``).

    Numbers keep their sign: a cell that parses as a number is left alone.
    """
    text = printable(text)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


_MARKDOWN_SPECIAL = r"([\\`\[\]|])"


def markdown_text(text: str) -> str:
    """Text for a markdown table cell or line that no markdown reads as a table border, HTML,
    a link or code: pipes, backslashes, brackets and backticks escaped, ``<`` and ``>`` as
    entities."""
    text = re.sub(_MARKDOWN_SPECIAL, r"\\\1", printable(text))
    return text.replace("<", "&lt;").replace(">", "&gt;")


def markdown_code(text: str) -> str:
    """Text as a markdown code span, inside which nothing is markup: the fence is longer
    than any run of backticks in the text, and ``|`` is escaped for GitHub's table parser
    (which unescapes it even inside code)."""
    text = printable(text).replace("|", "\\|")
    if "`" not in text:
        return f"`{text}`"
    fence = "`" * (max(len(run) for run in re.findall("`+", text)) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def annotation_message(text: str) -> str:
    """The message of a GitHub Actions workflow command (``::error …::message``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def annotation_property(text: str) -> str:
    """A property value of a workflow command (``file=…,title=…``)."""
    return annotation_message(text).replace(":", "%3A").replace(",", "%2C")
