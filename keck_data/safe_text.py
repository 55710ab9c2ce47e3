"""The one path for user- and supplier-provided text on its way into Markdown (no streamlit here).

Streamlit renders ``st.markdown``, ``st.info``/``error``/``warning``/``success``, ``st.caption``,
``st.subheader`` and expander labels as Markdown: an indicator's Definition, an area name, a conference note, a
search term from the URL or a column name from an uploaded file could otherwise become a link to a foreign host,
a remote image the visitor's browser fetches, a heading or Streamlit's ``:red[…]``/``$…$`` syntax. Pages put
every such text through :func:`safe`; inside HTML blocks (``unsafe_allow_html``) through :func:`html_text`.
Bookmark interpretations are Markdown on purpose and keep their own allow-list (``editing.render_markdown``).
"""
from __future__ import annotations

import html
import re

_ALWAYS = re.compile(r"([\\`*~|$<\[\]@])")  # links, images, HTML, code, emphasis, tables, formulas, e-mail links
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")  # emphasis; "ew_gesamt" (inside a word) is no emphasis
_COLON = re.compile(r":(?=//|[^\W\d_])")  # autolinks "https://…", Streamlit's ":red[…]", ":material/…:", emoji
_WWW = re.compile(r"(?i)\b(www)\.")  # GitHub's autolink "www.…"
_LINE_START = re.compile(r"(?m)^(\s*)([#>+=-]|\d+(?=[.)]))")  # headings, quotes, lists, setext underlines


def safe(text: object) -> str:
    """``text`` shown literally in Markdown: every character that could start a link, an image, an autolink
    (``https\\://…``, ``www\\.…``), HTML, emphasis, code, a table, a formula, Streamlit's colour or icon syntax,
    or at the start of a line a heading, quote or list, is backslash-escaped (CommonMark); ordinary prose
    punctuation stays as it is. A line break stays a line break."""
    escaped = _ALWAYS.sub(r"\\\1", "" if text is None else str(text))
    escaped = _UNDERSCORE.sub(r"\\_", escaped)
    escaped = _COLON.sub(r"\\:", escaped)
    escaped = _WWW.sub(r"\1\\.", escaped)
    escaped = _LINE_START.sub(lambda m: m.group(1) + (m.group(2) + "\\" if m.group(2)[0].isdigit()
                                                       else "\\" + m.group(2)), escaped)
    return re.sub(r"\r?\n", "  \n", escaped)


def html_text(text: object) -> str:
    """``text`` inside an HTML block: entities escaped and on one line (a blank line would end the HTML block
    and hand the rest to the Markdown parser)."""
    return " ".join(html.escape("" if text is None else str(text)).split())
