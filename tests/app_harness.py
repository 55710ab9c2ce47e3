"""AppTest harness (a pytest plugin, see conftest): warehouses, logins and an app factory started from app.py."""
import shutil

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from keck_data import auth
from keck_data.policy import system
from keck_data.publish import publish
from keck_data.warehouse import Warehouse
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def internal_file(demo_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("pages") / "keck.duckdb"
    shutil.copy(demo_file, path)
    return path


@pytest.fixture(scope="module")
def public_file(demo_file, tmp_path_factory):
    src = tmp_path_factory.mktemp("pubsrc") / "keck.duckdb"
    shutil.copy(demo_file, src)
    target = src.parent / "public.duckdb"
    with Warehouse(src) as wh:
        publish(wh, target, system())
    return target


@pytest.fixture(scope="module")
def logins(internal_file, tmp_path_factory):
    """Auth files in a temp folder and one account per role (username, password by role)."""
    directory = tmp_path_factory.mktemp("auth")
    with Warehouse(internal_file) as wh:
        created = auth.init_auth(wh, directory)
    return {role: (username, password) for username, role, password in created} | {"dir": directory}


@pytest.fixture()
def app(monkeypatch, internal_file, public_file, logins):
    """Factory for an AppTest in the given mode (internal: logged in with ``role``), with fresh caches."""
    def make(mode="internal", role="keck_admin", **params):
        st.cache_data.clear()
        st.cache_resource.clear()
        monkeypatch.setenv("KECK_MODE", mode)
        monkeypatch.setenv("KECK_WAREHOUSE", str(internal_file))
        monkeypatch.setenv("KECK_PUBLIC_WAREHOUSE", str(public_file))
        monkeypatch.setenv("KECK_AUTH_DIR", str(logins["dir"]))
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        for k, v in params.items():
            at.query_params[k] = v
        at.run()
        if mode == "internal" and role:
            assert "# Anmeldung" in markdown(at)
            at.text_input(key="login_user").input(logins[role][0])
            at.text_input(key="login_password").input(logins[role][1])
            next(b for b in at.button if b.label == "Anmelden").click().run()
        return at
    yield make
    st.cache_resource.clear()


def ok(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def markdown(at):
    return "\n".join(m.value for m in at.markdown)
