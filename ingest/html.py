"""HTML pages: the main content, its headings, paragraphs, lists, tables and FAQ pairs; no page furniture.

Public-sector pages wrap a short text in menus, cookie banners, breadcrumbs, share bars, side boxes and
footers. The content root is ``<main>``, ``<article>`` or ``[role=main]`` (else the body); inside it, elements
whose id, class or label names furniture (cookie, consent, share, breadcrumb, newsletter, ...) are dropped,
unless they hold most of the page's text (a wrapper named "page-with-sidebar" is not a side box).
FAQ accordions keep their questions: an accordion button (``aria-expanded``/``aria-controls``, or a class
naming a question or accordion), a ``<summary>`` and a ``<dt>`` become question headings, so each question
stays with its answer when the splitter cuts the page. Text sitting directly in a ``<div>`` (many accordion
panels have no ``<p>``) is a paragraph too.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.blocks import Block, LoadedDocument
from ingest.tables import table_text

DROP_TAGS = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg",
             "iframe", "select", "input", "dialog"]
FURNITURE = re.compile(r"cookie|consent|gdpr|privacy-?bar|share|social|breadcrumb|newsletter|skip|"
                       r"sidebar|related|correlat|leggi-?anche|see-?also|tags?$|banner|toolbar|back-?to-?top",
                       re.IGNORECASE)
QUESTION_BUTTON = re.compile(r"faq|question|domanda|accordion|toggle|collaps", re.IGNORECASE)
BLOCK_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "table", "pre", "blockquote", "dt", "dd", "summary"}
CONTAINERS = {"div", "section", "details", "article", "main", "body", "ul", "ol", "dl", "span", "figure",
              "center", "font"}


def _clean(text: str) -> str:
    return re.sub(r"[ \t\u00a0\n\r]+", " ", text.replace("\u00ad", "")).strip()


def _names(el) -> str:  # noqa: ANN001 - a bs4 Tag
    parts = [el.get("id") or "", " ".join(el.get("class") or []), el.get("aria-label") or "", el.get("role") or ""]
    return " ".join(p for p in parts if p)


def _is_furniture(el) -> bool:  # noqa: ANN001
    names = _names(el)
    if el.get("role") in ("navigation", "banner", "contentinfo", "dialog", "search", "complementary"):
        return True
    return any(FURNITURE.search(token) for token in re.split(r"[\s_]+", names) if token)


def _is_question_button(el) -> bool:  # noqa: ANN001
    return bool(el.get("aria-expanded") is not None or el.get("aria-controls")
                or QUESTION_BUTTON.search(" ".join(el.get("class") or [])))


def load_html(path: Path) -> LoadedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_bytes(), "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for button in soup.find_all("button"):
        text = _clean(button.get_text(" "))
        if text and _is_question_button(button):
            button.name = "h4"  # an accordion's question: a heading its answer panel follows
            button.attrs = {"data-faq": "1"}
        else:
            button.decompose()
    for tag in soup(DROP_TAGS):
        tag.decompose()
    for tag in soup.select("i[aria-hidden=true], span[aria-hidden=true], img"):
        tag.decompose()
    root = soup.find("main") or soup.find(attrs={"role": "main"}) or soup.find("article") or soup.body or soup
    total = len(_clean(root.get_text(" ")))
    for el in list(root.find_all(True)):
        if getattr(el, "decomposed", False) or el.parent is None:
            continue  # inside a part dropped already
        if _is_furniture(el) and len(_clean(el.get_text(" "))) < 0.5 * max(total, 1):
            el.decompose()
    blocks: list[Block] = []
    _walk(root, blocks)
    h1 = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    return LoadedDocument(blocks=blocks, title=h1 or title)


def _walk(el, blocks: list[Block]) -> None:  # noqa: ANN001 - a bs4 Tag
    from bs4 import NavigableString, Tag

    loose: list[str] = []

    def flush_loose() -> None:
        text = _clean(" ".join(loose))
        loose.clear()
        if len(text) > 1:
            blocks.append(Block("paragraph", text))

    for child in el.children:
        if isinstance(child, NavigableString):
            if child.__class__.__name__ in ("Comment", "Doctype", "ProcessingInstruction", "Declaration"):
                continue
            loose.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name in BLOCK_TAGS:
            flush_loose()
            _emit(child, blocks)
        elif name in CONTAINERS or child.find(list(BLOCK_TAGS)) is not None:
            flush_loose()
            _walk(child, blocks)
        else:
            loose.append(child.get_text(" "))  # inline: a, b, em, strong, span, br ...
    flush_loose()


def _marked(li, text: str) -> str:  # noqa: ANN001 - a bs4 Tag
    """A list item as it is shown: with its bullet ("- ") or its number ("3. ") before the text, so that it
    reads as an item of the list its lead-in announces."""
    if re.match(r"^(?:[-•*–]|\d{1,2}[.)]|[a-z]\))\s", text):
        return text
    parent = li.find_parent(["ol", "ul"])
    if parent is not None and parent.name == "ol":
        return f"{len(li.find_previous_siblings('li')) + 1}. {text}"
    return f"- {text}"


def _emit(el, blocks: list[Block]) -> None:  # noqa: ANN001
    name = el.name
    if name == "table":
        caption_el = el.find("caption")
        caption = _clean(caption_el.get_text(" ")) if caption_el else None
        if caption_el:
            caption_el.decompose()
        rows = [[c.get_text(" ") for c in tr.find_all(["th", "td"])] for tr in el.find_all("tr")]
        text = table_text(rows, caption)
        if text:
            blocks.append(Block("table", text))
        return
    if name in ("li", "blockquote", "dd") and el.find(["p", "ul", "ol", "table", "dl"]) is not None:
        # A list item or answer holding paragraphs or a nested list: its own text, then its children.
        _walk(el, blocks)
        return
    text = _clean(el.get_text(" "))
    if not text:
        return
    if name[0] == "h" and name[1:].isdigit():
        blocks.append(Block("heading", text, level=int(name[1])))
    elif name in ("summary", "dt"):
        blocks.append(Block("heading", text, level=4))
    elif name == "li":
        blocks.append(Block("list_item", _marked(el, text)))
    elif name == "dd":
        blocks.append(Block("paragraph", text))
    else:
        blocks.append(Block("paragraph", text))
