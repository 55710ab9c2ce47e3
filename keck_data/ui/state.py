"""The view state: one dict per session, mirrored into the URL so a view can be shared and reopened."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import streamlit as st

LIST_PARAMS = {"poi", "areas", "inds", "breaks", "si_ind", "si_gew", "si_pol"}


def view() -> dict:
    """The session's view; the first call of a session reads the URL's query parameters."""
    if "view" not in st.session_state:
        qp = st.query_params
        st.session_state["view"] = {
            k: ([x for x in qp[k].split(",") if x] if k in LIST_PARAMS else qp[k]) for k in qp.keys()}
    return st.session_state["view"]


def get(param: str, default: Any = None) -> Any:
    return view().get(param, default)


def put(param: str, value: Any) -> None:
    view()[param] = value


def _pick(param: str, options: Sequence, default: Any) -> Any:
    wanted = view().get(param)
    by_text = {str(o): o for o in options}
    if wanted is not None and str(wanted) in by_text:
        return by_text[str(wanted)]
    return default if default in options else (options[0] if options else None)


def widget(factory: Callable, label: str, options: Sequence, param: str, default: Any = None,
           format_func: Callable = str, then: Callable[[Any], None] | None = None, **kwargs: Any) -> Any:
    """A selectbox/radio/select_slider bound to ``view()[param]`` (invalid URL values fall back to ``default``).

    ``then(new_value)`` runs after a change by the user (e.g. a new Themenfeld picks its first indicator).
    """
    key = f"w_{param}"
    current = _pick(param, list(options), default)
    view()[param] = None if current is None else str(current)
    st.session_state[key] = current

    def changed() -> None:
        view()[param] = str(st.session_state[key])
        if then:
            then(st.session_state[key])

    return factory(label, list(options), key=key, on_change=changed, format_func=format_func, **kwargs)


def multiselect(label: str, options: Sequence, param: str, default: Sequence = (), format_func: Callable = str,
                max_selections: int | None = None, **kwargs: Any) -> list:
    """A multiselect bound to a list parameter."""
    key = f"w_{param}"
    wanted = view().get(param)
    by_text = {str(o): o for o in options}
    chosen = [by_text[w] for w in (wanted if wanted is not None else [str(d) for d in default]) if w in by_text]
    if max_selections:
        chosen = chosen[:max_selections]
    view()[param] = [str(c) for c in chosen]
    st.session_state[key] = chosen

    def changed() -> None:
        view()[param] = [str(x) for x in st.session_state[key]]

    kwargs.setdefault("placeholder", "Bitte wählen …")
    kwargs.setdefault("select_all", False)  # Streamlit's "Select all" entry is English
    return st.multiselect(label, list(options), key=key, on_change=changed, format_func=format_func,
                          max_selections=max_selections, **kwargs)


def toggle(label: str, param: str, **kwargs: Any) -> bool:
    key = f"w_{param}"
    st.session_state[key] = view().get(param) == "1"

    def changed() -> None:
        view()[param] = "1" if st.session_state[key] else "0"

    return st.toggle(label, key=key, on_change=changed, **kwargs)


def sync_url(params: Sequence[str]) -> None:
    """Write the given parameters (and the presentation flag and live session) into the address bar."""
    v = view()
    wanted = {}
    for p in list(params) + ["present", "sitzung"]:
        val = v.get(p)
        if val in (None, "", []) or (p == "present" and val != "1"):
            continue
        wanted[p] = ",".join(val) if isinstance(val, list) else str(val)
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)
