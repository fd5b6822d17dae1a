"""A strict HTML5 check for the pages convcost writes, and a small tree to query them.

Written for these tests (the standard library has a tokenizer, not a validator): it parses
with :class:`html.parser.HTMLParser` and fails on what a browser would silently repair or what
a self-contained page must not hold:

- a missing ``<!DOCTYPE html>``, ``<html lang>``, ``<meta charset="utf-8">`` or ``<title>``;
- an end tag that does not close the innermost open element, an element left open, a
  self-closed (``<x/>``) element outside SVG that is not a void element;
- a duplicate ``id``, or an attribute given twice on one element;
- a bare ``&`` that starts no character reference;
- block content where only phrasing content may be (inside ``p``, ``span``, ``b``, ``code``,
  ``a``, ``summary``, headings), a ``details`` whose first child is not its
  ``summary``, a ``tr`` outside ``thead``/``tbody``, a cell outside ``tr``;
- any ``<script>``, event-handler attribute (``onload=``), ``javascript:`` URL, or resource
  from the network (``src``/``href`` starting with ``http``, ``//``, or a ``<link>``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    ]
)
PHRASING = frozenset(
    [
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "br",
        "cite",
        "code",
        "data",
        "dfn",
        "em",
        "i",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
        "wbr",
        "svg",
    ]
)
PHRASING_ONLY = frozenset(
    ["p", "span", "b", "i", "code", "a", "strong", "em", "summary", "h1", "h2", "h3"]
)
SVG_TAGS = frozenset(
    [
        "svg",
        "g",
        "line",
        "rect",
        "circle",
        "polyline",
        "polygon",
        "path",
        "text",
        "tspan",
        "title",
        "desc",
    ]
)
_REFERENCE = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]*;|#[0-9]+;|#[xX][0-9A-Fa-f]+;)")


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    """Text directly inside, in order (children's text not included)."""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self) -> Iterator[Element]:
        for child in self.children:
            yield child
            yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
        ]

    def text(self) -> str:
        """All text inside, children's included, in document order."""
        parts: list[str] = []
        self._collect(parts)
        return "".join(parts)

    def _collect(self, parts: list[str]) -> None:
        # texts and children interleave; the parser records each text as it comes
        for item in self._order:
            if isinstance(item, Element):
                item._collect(parts)
            else:
                parts.append(item)

    _order: list[Element | str] = field(default_factory=list)


class HTMLError(AssertionError):
    pass


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.doctype = ""
        self.ids: set[str] = set()
        self.errors: list[str] = []

    def error_at(self, message: str) -> None:
        line, column = self.getpos()
        self.errors.append(f"{line}:{column}: {message}")

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def _open(self, tag: str, attrs: list[tuple[str, str | None]]) -> Element:
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            self.error_at(f"<{tag}> repeats an attribute: {names}")
        values = {name: value or "" for name, value in attrs}
        if tag in ("script", "link", "iframe", "object", "embed", "img"):
            self.error_at(f"<{tag}> is not allowed in a self-contained page without script")
        for name, value in values.items():
            if name.startswith("on"):
                self.error_at(f"<{tag}> has an event handler {name}")
            if name in ("src", "href", "xlink:href", "action") and re.match(
                r"\s*(https?:|//|javascript:)", value, re.IGNORECASE
            ):
                self.error_at(f"<{tag}> {name}={value!r} reaches outside the page")
        if "id" in values:
            if values["id"] in self.ids:
                self.error_at(f"duplicate id {values['id']!r}")
            self.ids.add(values["id"])
        parent = self.stack[-1]
        if parent.tag in PHRASING_ONLY and tag not in PHRASING:
            self.error_at(f"<{tag}> inside <{parent.tag}> (only phrasing content allowed)")
        if parent.tag == "details" and not parent.children and tag != "summary":
            self.error_at(f"<details> starts with <{tag}>, not <summary>")
        if tag == "tr" and parent.tag not in ("thead", "tbody", "tfoot", "table"):
            self.error_at(f"<tr> inside <{parent.tag}>")
        if tag in ("td", "th") and parent.tag != "tr":
            self.error_at(f"<{tag}> inside <{parent.tag}>")
        element = Element(tag, values, parent)
        parent.children.append(element)
        parent._order.append(element)
        return element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = self._open(tag, attrs)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        in_svg = any(e.tag == "svg" for e in self.stack)
        if tag not in VOID and not (in_svg and tag in SVG_TAGS):
            self.error_at(f"<{tag}/> self-closed outside SVG")
        self._open(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.error_at(f"end tag </{tag}> of a void element")
            return
        if len(self.stack) == 1 or self.stack[-1].tag != tag:
            self.error_at(f"</{tag}> does not close the open <{self.stack[-1].tag}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        element = self.stack[-1]
        element.texts.append(data)
        element._order.append(data)


def parse(page: str, *, fragment: bool = False) -> Element:
    """The page's tree; :class:`HTMLError` listing every problem found."""
    errors = []
    for match in re.finditer(r"&", page):
        if not _REFERENCE.match(page, match.start()):
            errors.append(
                f"offset {match.start()}: bare & ({page[match.start() : match.start() + 12]!r})"
            )
    parser = _Parser()
    parser.feed(page)
    parser.close()
    errors += parser.errors
    if len(parser.stack) > 1:
        errors.append(f"left open: {[e.tag for e in parser.stack[1:]]}")
    root = parser.root
    if not fragment:
        if parser.doctype.lower() != "doctype html":
            errors.append(f"doctype is {parser.doctype!r}, not 'DOCTYPE html'")
        html = [e for e in root.children if e.tag == "html"]
        if len(html) != 1 or not html[0].attrs.get("lang"):
            errors.append("one <html lang=…> element expected")
        metas = root.find_all("meta")
        if not any(m.attrs.get("charset", "").lower() == "utf-8" for m in metas):
            errors.append('no <meta charset="utf-8">')
        titles = [t for head in root.find_all("head") for t in head.find_all("title")]
        if len(titles) != 1 or not titles[0].text().strip():
            errors.append("one non-empty <title> expected")
    if errors:
        raise HTMLError("invalid HTML:\n" + "\n".join(errors[:30]))
    return root
