"""Live session in the browser: the moderator's view is written after every rerun, followers poll it.

The session is the URL parameter ``sitzung`` (kept by :func:`state.sync_url`): its moderator drives, everybody
else follows — a fragment re-reads one small row every :data:`POLL_SECONDS` and, when its sequence number moved,
takes over the moderator's view and page. "Eigene Ansicht" leaves (the session is remembered for rejoining).
On the public instance a public session is followed the same way from its mirror file (:mod:`session_mirror`).
"""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import streamlit as st

from .. import conference, session_mirror
from ..config import settings
from ..errors import KeckError
from ..safe_text import safe
from . import registry, resources, session, state
from .resources import atlas

POLL_SECONDS = 0.5
PARAM = "sitzung"


def session_id() -> int | None:
    """The session this browser takes part in (None: own view)."""
    raw = state.get(PARAM)
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def current() -> conference.Session | None:
    """The internal session this browser takes part in (the public instance has sessions only as mirrors)."""
    sid = session_id()
    if sid is None or settings().is_public:
        return None
    try:
        return conference.session(atlas().wh, sid)
    except KeckError:
        state.view().pop(PARAM, None)
        return None


def open_here(sid: int) -> None:
    """This tab starts or opens session ``sid`` from the Sitzung page: it stays there (only a bare session link
    opened in a fresh tab takes up the live view, see :func:`begin`)."""
    state.put(PARAM, str(sid))
    st.session_state["conf_pushed"] = (sid, None)


def driving(s: conference.Session | None) -> bool:
    user = session.user()
    return bool(s and user and user.username == s.moderator and not s.closed)


def following() -> bool:
    """Does this browser follow a live session right now (internal, or a public session's mirror)?"""
    if settings().is_public:
        return session_id() is not None
    s = current()
    return bool(s and not s.closed and not driving(s))


def begin(url_path: str) -> None:
    """Before a page runs: a follower switches to the moderator's page; the follow bar on top. A moderator who
    opens the session in a new tab continues from its live view (it would otherwise send everybody the default
    map)."""
    s = current()
    if driving(s) and "conf_pushed" not in st.session_state:
        _resume(s.id)
    _switch(url_path)
    if s and s.closed:  # nobody drives or follows an ended session; its notes and protocol stay readable
        st.caption(f"Die Sitzung „{safe(s.title)}“ ist beendet – Notizen und Protokoll auf der Seite "
                   "„Sitzung“.")
    elif s and not driving(s):
        _follow_bar(s.id, s.title)
    elif s is None and st.session_state.get("conf_left"):
        _rejoin_bar(*st.session_state["conf_left"])


def begin_public(url_path: str) -> None:
    """The public instance: follow a public session from its mirror (views of released indicators only)."""
    _switch(url_path)
    sid = session_id()
    mirrored = session_mirror.read(settings().public_warehouse_path, sid) if sid is not None else None
    if mirrored:
        _follow_bar(sid, mirrored["title"])
    elif sid is not None:
        state.view().pop(PARAM, None)
        st.warning(f"Die Sitzung Nr. {sid} ist nicht öffentlich.")
    elif st.session_state.get("conf_left"):
        _rejoin_bar(*st.session_state["conf_left"])


def _switch(url_path: str) -> None:
    """Right after a take-over: to the moderator's page (a page this instance shows), before the old one runs."""
    if st.session_state.pop("conf_switch", None):
        wanted, here = state.get("page", "karte"), "karte" if url_path in ("", "start") else url_path
        if wanted != here and wanted in registry.VIEW_PAGES:
            st.switch_page(next(p.file for p in registry.PAGES if p.url_path == wanted))


def _live(sid: int) -> tuple[int, dict, str] | None:
    """(sequence number, view, note) of the moderator's view: internal from its row, public from the mirror."""
    if not settings().is_public:
        found = conference.live(atlas().wh, sid)
        return (*found, "") if found else None
    mirrored = session_mirror.read(settings().public_warehouse_path, sid)
    if not mirrored:
        return None
    note = (" Die Sitzung ist beendet." if mirrored["closed"] else
            " Die Moderation zeigt gerade nicht öffentliche Daten." if mirrored["paused"] else "")
    return mirrored["seq"], mirrored["view"], note


def _differs() -> bool:
    """Has this follower changed the view taken from the moderator (year, indicator, page …)? Only what the
    moderator's view names counts: what a page adds by itself (defaults) is no change."""
    taken, here = st.session_state.get("conf_taken"), state.view()
    return bool(taken) and any(here.get(k) != v for k, v in taken.items())


def _follow_bar(sid: int, title: str) -> None:
    """The follow bar, and the poll that takes over the moderator's view when it changed."""
    found = _live(sid)
    st.session_state["conf_note"] = found[2] if found else ""
    left, middle, right = st.columns([4, 1, 1], vertical_alignment="center")
    if _differs():  # a control changed here: not what the moderator shows, until the next change there
        left.markdown(f"**Eigene Ansicht** in der Sitzung „{safe(title)}“ – der nächste Wechsel der Moderation "
                      f"holt Sie zurück.{found[2] if found else ''}")
        if middle.button("Zur Live-Ansicht", key="conf_back"):
            st.session_state.pop("conf_seq", None)  # the next poll takes the moderator's view over again
            st.rerun()
    else:
        left.markdown(f"**Live:** Sie folgen der Sitzung „{safe(title)}“.{found[2] if found else ''}")
    if right.button("Eigene Ansicht", key="conf_leave", help="Nicht mehr folgen; „Wieder folgen“ holt Sie zurück."):
        state.view().pop(PARAM, None)
        st.session_state["conf_left"] = (sid, title)
        st.rerun()
    _poll(sid)


@st.fragment(run_every=POLL_SECONDS)
def _poll(sid: int) -> None:
    """Every POLL_SECONDS: a new sequence number takes over the view (and the page), a new note redraws the bar.
    Draws nothing itself: with 40 followers every element of a poll was sent 80 times a second."""
    if session_id() != sid:
        return  # left meanwhile
    found = _live(sid)
    if found and found[0] != st.session_state.get("conf_seq"):
        st.session_state["conf_seq"] = found[0]
        _take_over(sid, found[1])
    elif found and found[2] != st.session_state.get("conf_note"):
        st.rerun(scope="app")


def _take_over(sid: int, view: dict) -> None:
    own = {k: v for k, v in state.view().items() if k in conference.VIEW_KEYS_DROPPED}
    st.session_state["view"] = {**view, **own, PARAM: str(sid)}
    st.session_state["conf_taken"] = {k: v for k, v in view.items() if k not in conference.VIEW_KEYS_DROPPED}
    st.session_state.pop("w_breaks", None)  # the breaks text input keeps its own text otherwise
    st.session_state["conf_switch"] = True  # st.switch_page does not work inside a fragment
    st.rerun(scope="app")


def _resume(sid: int) -> None:
    """The moderator's first run in this browser session: a bare session link takes up the live view."""
    own = set(conference.VIEW_KEYS_DROPPED) | {"page"}
    found = conference.live(atlas().wh, sid)
    if found and found[1] and not set(state.view()) - own:
        st.session_state["view"] = {**found[1], **{k: v for k, v in state.view().items() if k in own}}
        st.session_state["conf_pushed"] = (sid, found[1])
        st.session_state["conf_switch"] = True


def _rejoin_bar(sid: int, title: str) -> None:
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.markdown(f"Eigene Ansicht – die Sitzung „{safe(title)}“ läuft weiter.")
    if right.button("Wieder folgen", key="conf_rejoin"):
        st.session_state.pop("conf_left", None)
        st.session_state.pop("conf_seq", None)
        state.put(PARAM, str(sid))
        st.rerun()


def publish_view() -> None:
    """After a page ran: the moderator's view goes to the followers when it changed."""
    s = current()
    if not driving(s):
        return
    view = {k: v for k, v in state.view().items() if k not in conference.VIEW_KEYS_DROPPED}
    if st.session_state.get("conf_pushed") != (s.id, view):
        conference.drive(atlas().wh, session.user(), s.id, view)
        st.session_state["conf_pushed"] = (s.id, view)


def noted_areas() -> tuple[str, ...]:
    """Areas with notes in the current session (markers on the map)."""
    s = current()
    if s is None:
        return ()
    return tuple(conference.notes(atlas().wh, s.id)["area_key"].unique())


def share_link() -> tuple[str, str]:
    """(address, short label) of what the wall shows: in a session the session link (participants follow),
    else this view — on the public instance where it shows only released indicators and one is configured."""
    here = urlsplit(st.context.url or "http://localhost/")
    origin = f"{here.scheme}://{here.netloc}"
    s = current()
    if s and s.public and settings().public_url:  # participants follow on the public instance
        origin = settings().public_url
        return f"{origin}/?{PARAM}={s.id}", f"{urlsplit(origin).netloc}/?{PARAM}={s.id}"
    if s:
        path = f"/sitzung?{PARAM}={s.id}"
        return origin + path, here.netloc + path
    params = {k: v for k, v in st.query_params.to_dict().items() if k != "present"}
    public = settings().public_url
    if public and not settings().is_public and _released(params):
        origin = public
    page = state.get("page", "karte")
    link = f"{origin}/{page}" + (f"?{urlencode(params)}" if params else "")
    return link, f"{urlsplit(origin).netloc}/{page}"


def _released(params: dict) -> bool:
    """Does the view show released indicators only (so the public instance has it)?"""
    keys = session_mirror.indicators_of(params)
    meta = resources.indicators().set_index("key")
    return bool(keys) and all(k in meta.index and bool(meta.at[k, "released"]) for k in keys)
