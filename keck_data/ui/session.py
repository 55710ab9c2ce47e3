"""Who is logged in: session state after a password login, else the signed cookie (checked server-side)."""
from __future__ import annotations

import functools
import os
from datetime import datetime
from pathlib import Path

import streamlit as st
from streamlit_authenticator.models.cookie_model import CookieModel

from .. import auth
from ..auth import User
from ..config import settings
from .resources import atlas

USER_KEY = "keck_user"


def cookie_key() -> str:
    """The cookie key, read once per key file/environment (raises while it is missing or the example key)."""
    return _cookie_key(str(auth.config_dir()), os.environ.get("KECK_COOKIE_KEY"))


@st.cache_resource(show_spinner=False)
def _cookie_key(directory: str, from_env: str | None) -> str:
    return auth.cookie_key(Path(directory))


COOKIE_SETTER = "set"  # the key extra_streamlit_components' CookieManager.set gives its component


def _cookies() -> CookieModel:
    """streamlit-authenticator's cookie handling (a JWT set by its cookie component in the browser)."""
    st.session_state.setdefault("logout", None)
    return CookieModel(auth.COOKIE_NAME, cookie_key(), auth.COOKIE_EXPIRY_DAYS)


@functools.cache
def sso_configured() -> bool:
    """True when .streamlit/secrets.toml has an [auth] section for an OIDC identity provider (read once: without
    a secrets file Streamlit looked for one under a lock on every call, every rerun of every session waiting)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _sso_user() -> User | None:
    if not (sso_configured() and st.user.is_logged_in):
        return None
    name = st.user.get("preferred_username") or st.user.get("email")
    return auth.sso_user(atlas().wh, str(name)) if name else None


def user() -> User | None:
    """The current user, or None; a logout or password change elsewhere ends this session too."""
    wh = atlas().wh
    sso = _sso_user()
    if sso:
        return sso
    held = st.session_state.get(USER_KEY)
    if held:
        found, issued = held
        if auth.session_valid(wh, found.username, issued):
            return found
        st.session_state.pop(USER_KEY, None)
        return None
    if st.session_state.get("logout"):
        return None
    found = auth.session_from_token(wh, _cookie(), cookie_key())
    if not found:
        return None
    st.session_state[USER_KEY] = found  # (user, the token's issue time)
    return found[0]


def _cookie() -> str | None:
    """The browser's login cookie (a signed token), if it sent one."""
    return st.context.cookies.get(auth.COOKIE_NAME)


def current_user() -> User | None:
    """The internal instance's user; refuses to run with a missing or example cookie key."""
    cookie_key()
    return user()


def login(username: str, password: str) -> User:
    """Check the password (throttled) and remember the login in the session and the browser cookie."""
    found = auth.authenticate(atlas().wh, username, password, client=_client())
    st.session_state[USER_KEY] = (found, datetime.now())
    st.session_state["username"] = found.username  # read by streamlit-authenticator's cookie model
    st.session_state["logout"] = None
    st.session_state["cookie_pending"] = True  # set on the next runs: a rerun now would drop the cookie component
    st.session_state.pop(COOKIE_SETTER, None)  # a value from an earlier login of this session
    return found


def _client() -> str:
    """The browser's address: from the reverse proxy's header where one is configured (it overwrites the
    client's own), else the socket's peer."""
    header = settings().client_header
    if header:
        return (st.context.headers.get(header) or "").split(",")[0].strip()
    return st.context.ip_address or ""


def remember_login() -> None:
    """After a login, render the cookie component on every run until it reports the cookie set: the cookie
    reader component answering first starts a rerun that dropped a once-rendered setter before its script ran
    (the login was then gone after a reload)."""
    if st.session_state.get("cookie_pending"):
        _cookies().set_cookie()
        if st.session_state.get(COOKIE_SETTER):  # the component's value: True once it has set the cookie
            st.session_state.pop("cookie_pending")


def logout(current: User) -> None:
    if sso_configured() and st.user.is_logged_in:
        st.logout()
    auth.end_sessions(atlas().wh, current)
    st.session_state.pop("cookie_pending", None)
    _cookies().delete_cookie()
    st.session_state.pop(USER_KEY, None)
    st.session_state["logout"] = True
