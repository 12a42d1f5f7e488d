"""HTML-only emails become readable text; hidden text (a favourite hiding place for injected
instructions) and scripts are dropped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"}
_SKIP = {"script", "style", "head", "title", "template", "noscript"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base", "source"}
_WHITE = {"#fff", "#ffffff", "white", "rgb(255,255,255)", "rgba(255,255,255,1)", "transparent"}
_LENGTH = re.compile(r"(-?\d*\.?\d+)\s*(px|pt|em|rem|%)?")


def _length(value: str) -> float | None:
    """A CSS length in px (em and rem as 16px); None when it is not one."""
    m = _LENGTH.match(value.strip())
    if not m:
        return None
    number = float(m.group(1))
    return number * {"pt": 1.33, "em": 16, "rem": 16, "%": 0.16}.get(m.group(2) or "px", 1)


def hidden_by_style(style: str, color: str | None = None) -> bool:
    """Whether inline CSS hides the text from a reader: not displayed, invisible, transparent or
    near it, too small to read, the colour of the page, moved off-screen, clipped away, or in a
    box of no size. Each is a way an email hides instructions for a model."""
    rules: dict[str, str] = {}
    for part in style.split(";"):
        name, _, value = part.partition(":")
        if value:
            rules[name.strip().lower()] = re.sub(r"\s+", "", value.lower()).replace(
                "!important", ""
            )
    get = rules.get
    if get("display") == "none" or get("visibility") in ("hidden", "collapse"):
        return True
    if get("opacity") is not None:
        try:
            if float(get("opacity") or 1) < 0.2:
                return True
        except ValueError:
            pass
    size = _length(get("font-size") or "")
    if size is not None and size < 4:
        return True
    ink = get("color") or (color or "").lower()
    background = get("background-color") or get("background") or ""
    if ink and (ink == background or (ink in _WHITE and background in ("", *_WHITE))):
        return True
    for edge in ("left", "top", "text-indent", "margin-left", "margin-top", "right"):
        offset = _length(get(edge) or "")
        if offset is not None and offset <= -100:
            return True
    clip = get("clip-path") or get("clip") or ""
    if re.search(
        r"inset\((?:50|100)%|circle\(0|rect\(0(?:px)?,?0(?:px)?,?0(?:px)?,?0(?:px)?\)|rect\(1px,?1px,?1px,?1px\)",
        clip,
    ):
        return True
    if "scale(0" in (get("transform") or ""):
        return True
    boxed = get("overflow") == "hidden" or get("overflow-y") == "hidden"
    return boxed and any(
        (_length(get(side) or "") or 1) <= 1
        for side in ("width", "height", "max-height", "max-width")
    )


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._stack: list[bool] = []  # per open element: does it hide its content?
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")
        if tag in _VOID:
            return
        attr = dict(attrs)
        hides = (
            tag in _SKIP
            or "hidden" in attr
            or attr.get("aria-hidden") == "true"
            or hidden_by_style(attr.get("style") or "", attr.get("color"))
        )
        self._stack.append(hides)
        self._hidden_depth += hides

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self._stack:
            self._hidden_depth -= self._stack.pop()
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def looks_like_html(text: str) -> bool:
    return bool(re.search(r"<(html|body|div|p|br|table|span)\b[^>]*>", text[:5000], re.I))
