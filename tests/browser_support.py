"""Browser tests' plugin: the real atlas servers (internal + public) on free localhost ports, Debian's Chromium
driven by Playwright, and helpers that operate Streamlit's widgets as a user does."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from keck_data import auth
from keck_data.policy import system
from keck_data.publish import publish
from keck_data.warehouse import Warehouse
from tests.conftest import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots of every page (gitignored), looked at before a release
CHROMIUM = "/usr/bin/chromium"
TRICKY_NAME = "Hafen & Kanal <b>x</b>"  # must show literally in tooltips: neither markup nor "&amp;"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVE = [sys.executable, "-m", "keck_data.ui.serve"]
STREAMLIT_RUN = [sys.executable, "-m", "streamlit", "run", "app.py"]  # the other start command README names


@contextmanager
def atlas_server(env: dict, log: Path, start: list[str] = SERVE, options: tuple[str, ...] = (
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none")):
    """A real Streamlit server (python -m keck_data.ui.serve, or ``start``) until the block ends."""
    port = free_port()
    cmd = [*start, "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
           *options]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.3)
            else:
                raise RuntimeError(f"server did not start: {log.read_text()}")
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def wait_idle(page, timeout: int = 60_000) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_timeout(300)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label``."""
    box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=label)).first
    box.click()
    page.keyboard.type(option)  # filters the (virtualised) option list
    page.wait_for_timeout(200)  # the filtered list re-renders once more
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def private_copy(demo_file: Path, base: Path, published: bool = False) -> tuple[dict, tuple[str, str]]:
    """A private copy of the demo warehouse in ``base`` for tests that change data: the servers' environment
    (without KECK_MODE) and the keck_admin login; ``published``: with a public snapshot of it."""
    internal, public = base / "keck.duckdb", base / "public.duckdb"
    shutil.copy(demo_file, internal)
    with Warehouse(internal) as wh:
        created = auth.init_auth(wh, base / "auth")
        if published:
            publish(wh, public, system())
    (base / "tmp").mkdir()
    env = {"KECK_WAREHOUSE": str(internal), "KECK_PUBLIC_WAREHOUSE": str(public), "KECK_AUTH_DIR": str(base / "auth"),
           "TMPDIR": str(base / "tmp")}
    return env, next((u, p) for u, role, p in created if role == "keck_admin")


@pytest.fixture(scope="session")
def playwright_driver():
    """One Playwright (sync API) for the whole run: the sync API cannot be started twice at the same time."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: scripts/test.sh installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_driver):
    b = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture(scope="session")
def files(demo_file, tmp_path_factory):
    """Internal warehouse, a second internal warehouse ("source") that publishes, and the public snapshot."""
    base = tmp_path_factory.mktemp("browser")
    internal = base / "keck.duckdb"
    shutil.copy(demo_file, internal)
    source = base / "source.duckdb"  # the "other" internal warehouse that publishes while both servers run
    shutil.copy(demo_file, source)
    for path in (internal, source):  # the area in the middle of the map gets a name with HTML in it
        with duckdb.connect(str(path)) as con:
            con.execute("UPDATE area SET name = ? WHERE key = '0307'", [TRICKY_NAME])
    public = base / "public.duckdb"
    with Warehouse(source) as wh:
        publish(wh, public, system())
    return {"internal": internal, "source": source, "public": public, "base": base}


@pytest.fixture(scope="session")
def accounts(files):
    """One login per role: {role: (username, password)} and the auth folder under "dir"."""
    directory = files["base"] / "auth"
    with Warehouse(files["internal"]) as wh:
        created = auth.init_auth(wh, directory)
    return {role: (username, password) for username, role, password in created} | {"dir": directory}


@pytest.fixture(scope="session")
def servers(files, accounts):
    common = {"KECK_WAREHOUSE": str(files["internal"]), "KECK_PUBLIC_WAREHOUSE": str(files["public"]),
              "KECK_AUTH_DIR": str(accounts["dir"])}
    with atlas_server({**common, "KECK_MODE": "internal"}, files["base"] / "internal.log") as internal, \
            atlas_server({**common, "KECK_MODE": "public"}, files["base"] / "public.log") as public:
        yield {"internal": internal, "public": public}


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def signed_in(page, url: str, account: tuple[str, str]) -> None:
    """Open ``url`` on the internal instance and log in on the Anmeldung page it shows first."""
    page.goto(url)
    wait_idle(page, timeout=120_000)  # the first run of a fresh server computes the protected values
    page.get_by_label("Benutzername").fill(account[0])
    page.get_by_label("Passwort", exact=True).fill(account[1])
    page.get_by_role("button", name="Anmelden").click()
    wait_idle(page)
    page.wait_for_selector("text=Abmelden")
    # the signed cookie is set by a component on the run after the login: a reload before it arrives is a new,
    # logged-out session (two CI failures on a loaded box: "Anmeldung" after a reload)
    deadline = time.time() + 60
    while not any(c["name"] == auth.COOKIE_NAME for c in page.context.cookies()):
        assert time.time() < deadline, "the login cookie was not set within 60 s"
        page.wait_for_timeout(100)
    page.wait_for_timeout(500)  # the setter's answer starts one more run: let it finish before the test acts
    wait_idle(page)


def widget(page, testid: str, label: str):
    """The Streamlit widget of a kind (stSelectbox, stMultiSelect, stRadio …) with the given label."""
    return page.locator(f'[data-testid="{testid}"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=label)).first


def add_option(page, label: str, option: str) -> None:
    """Add ``option`` to the multiselect labelled ``label``."""
    widget(page, "stMultiSelect", label).locator("input").click()  # not the chips: their × removes one
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")
    wait_idle(page)


def pick_radio(page, label: str, option: str) -> None:
    widget(page, "stRadio", label).get_by_text(option, exact=True).click()
    wait_idle(page)


def type_into(page, label: str, text: str) -> None:
    """Type into a text input and confirm with Enter (Streamlit reruns on Enter or blur)."""
    box = page.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")
    wait_idle(page)


def holds(page, check, seconds: float = 2.0, timeout: float = 30.0) -> None:
    """``check()`` becomes true (the view follows) and is still true ``seconds`` later (nothing jumps back)."""
    deadline = time.time() + timeout
    while not check():
        assert time.time() < deadline, f"the view did not follow: {page.url}"
        page.wait_for_timeout(250)
    page.wait_for_timeout(int(seconds * 1000))
    wait_idle(page)
    assert check(), f"the view jumped back: {page.url}"
