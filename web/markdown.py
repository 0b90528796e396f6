"""Model output as safe HTML: escape everything first, then render a small markdown subset.

Because the text is HTML-escaped before any markdown rule runs, no input can produce a tag or an attribute
that these rules do not write themselves. The subset: fenced code blocks (```lang), inline code, headings,
bold, italic, bullet and numbered lists, block quotes, paragraphs with line breaks, and links whose target
is ``http(s):``, ``mailto:``, a path on this site or an anchor (any other target, ``javascript:`` included,
is shown as plain text).
"""

from __future__ import annotations

import html
import re

__all__ = ["render"]

_FENCE = re.compile(r"^```\s*([A-Za-z0-9_+-]*)\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,9}[.)]\s+(.*)$")
_QUOTE = re.compile(r"^&gt;\s?(.*)$")
_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])[*_](?=\S)(.+?)(?<=\S)[*_](?![\w*])")
_SAFE_TARGET = re.compile(r"^(https?://[^\s]+|mailto:[^\s]+|/(?!/)[^\s]*|#[^\s]*)$", re.IGNORECASE)
_SLOT = "\x00{}\x00"


def _inline(escaped: str) -> str:
    """Inline rules over already-escaped text (code spans are set aside first so nothing runs inside them)."""
    slots: list[str] = []

    def keep(fragment: str) -> str:
        slots.append(fragment)
        return _SLOT.format(len(slots) - 1)

    text = _CODE.sub(lambda m: keep(f"<code>{m.group(1)}</code>"), escaped.replace("\x00", ""))

    def link(m: re.Match[str]) -> str:
        label, target = m.group(1), m.group(2)
        if not _SAFE_TARGET.match(html.unescape(target)):
            return m.group(0)
        return keep(f'<a href="{target}" rel="noopener noreferrer nofollow" target="_blank">{label}</a>')

    text = _LINK.sub(link, text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    return re.sub("\x00(\\d+)\x00", lambda m: slots[int(m.group(1))], text)


def _blocks(escaped_lines: list[str]) -> list[str]:
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""
    quote: list[str] = []

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            out.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if items:
            out.append(f"<{list_tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{list_tag}>")
            items.clear()
            list_tag = ""
        if quote:
            out.append("<blockquote>" + "<br>".join(_inline(line) for line in quote) + "</blockquote>")
            quote.clear()

    for line in escaped_lines:
        if not line.strip():
            flush()
        elif heading := _HEADING.match(line):
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif (bullet := _BULLET.match(line)) or (numbered := _NUMBERED.match(line)):
            tag = "ul" if bullet else "ol"
            if paragraph or quote or (items and list_tag != tag):
                flush()
            list_tag = tag
            items.append((bullet or numbered).group(1))  # type: ignore[union-attr]
        elif quoted := _QUOTE.match(line):
            if paragraph or items:
                flush()
            quote.append(quoted.group(1))
        else:
            if items or quote:
                flush()
            paragraph.append(line)
    flush()
    return out


def render(text: str) -> str:
    """Safe HTML for ``text`` (any string, however hostile)."""
    out: list[str] = []
    prose: list[str] = []
    code: list[str] | None = None
    language = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        fence = _FENCE.match(line)
        if code is None and fence:
            out.extend(_blocks(prose))
            prose = []
            code, language = [], fence.group(1)
        elif code is not None and line.strip() == "```":
            out.append(_code_block(code, language))
            code = None
        elif code is not None:
            code.append(line)
        else:
            prose.append(html.escape(line, quote=True))
    if code is not None:  # an unclosed fence (e.g. a reply still streaming) is still a code block
        out.append(_code_block(code, language))
    out.extend(_blocks(prose))
    return "".join(out)


def _code_block(lines: list[str], language: str) -> str:
    cls = f' class="language-{language}"' if language else ""
    return f"<pre><code{cls}>" + html.escape("\n".join(lines), quote=True) + "</code></pre>"
