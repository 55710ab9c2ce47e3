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

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character may be escaped (CommonMark)


def safe(text: object) -> str:
    """``text`` shown literally in Markdown: every ASCII punctuation character backslash-escaped, so links,
    images, autolinks (``https\\://…``, ``www\\.…``), HTML, emphasis, headings, lists, tables, emoji
    shortcodes and formulas stay text; a line break stays a line break."""
    escaped = _PUNCTUATION.sub(r"\\\1", "" if text is None else str(text))
    return re.sub(r"\r?\n", "  \n", escaped)


def html_text(text: object) -> str:
    """``text`` inside an HTML block: entities escaped and on one line (a blank line would end the HTML block
    and hand the rest to the Markdown parser)."""
    return " ".join(html.escape("" if text is None else str(text)).split())
