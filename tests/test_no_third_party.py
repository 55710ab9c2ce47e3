"""Visitors' browsers talk to the atlas only: no base-map tiles or styles from third parties unless a
municipality configures its own tile server (KECK_TILE_URL), and then only that one."""
import http.server
import threading
from urllib.parse import urlparse

import pytest

from tests.browser_support import atlas_server, wait_idle

pytestmark = pytest.mark.browser
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cf"
                    "c0f01f0005000201a5c1c1e70000000049454e44ae426082")


@pytest.fixture()
def tile_server():
    """A self-hosted tile server stand-in that answers every tile with a 1-pixel PNG and counts requests."""
    hits = []

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()


def _hosts_seen(page, url: str) -> set[str]:
    seen = set()
    page.on("request", lambda r: seen.add(urlparse(r.url).netloc) if r.url.startswith("http") else None)
    page.goto(url)
    wait_idle(page)
    page.wait_for_selector("div.keck-legend")
    page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=20_000)
    page.wait_for_timeout(3000)  # a base map would load its style and tiles now
    return seen


def test_the_map_loads_nothing_from_third_parties(files, page, tmp_path):
    env = {"KECK_MODE": "public", "KECK_PUBLIC_WAREHOUSE": str(files["public"]), "KECK_TILE_URL": ""}
    with atlas_server(env, tmp_path / "public.log") as url:
        hosts = _hosts_seen(page, url + "/karte")
    assert hosts == {urlparse(url).netloc}, hosts


def test_a_configured_tile_server_is_the_only_other_host(files, page, tmp_path, tile_server):
    tiles, hits = tile_server
    env = {"KECK_MODE": "public", "KECK_PUBLIC_WAREHOUSE": str(files["public"]),
           "KECK_TILE_URL": tiles + "/{z}/{x}/{y}.png"}
    with atlas_server(env, tmp_path / "public.log") as url:
        hosts = _hosts_seen(page, url + "/karte?base=tiles")
    assert hosts == {urlparse(url).netloc, urlparse(tiles).netloc}, hosts
    assert hits and all(h.endswith(".png") for h in hits)
