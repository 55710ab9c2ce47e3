"""deploy/nginx.conf: security headers, TLS, Streamlit's websocket; its CSP holds for every page in Chromium."""
import base64
import getpass
import hashlib
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import streamlit

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, free_port, signed_in, wait_idle
from tests.conftest import ROOT

CONF = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")


def header(name: str) -> str:
    found = re.search(rf'add_header {re.escape(name)} "([^"]+)" always;', CONF)
    assert found, f"{name} is not set"
    return found.group(1)


def test_headers_tls_and_websocket_are_configured():
    assert "max-age=31536000" in header("Strict-Transport-Security")
    assert header("X-Frame-Options") == "SAMEORIGIN" and header("X-Content-Type-Options") == "nosniff"
    csp = dict(d.strip().split(" ", 1) for d in header("Content-Security-Policy").split(";"))
    assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'self'"
    assert "http" not in header("Content-Security-Policy")  # no other origin
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"].split()
    assert re.search(r"listen 443 ssl;", CONF) and "return 301 https://" in CONF
    assert "proxy_set_header   Upgrade $http_upgrade;" in CONF and "Connection $connection_upgrade" in CONF
    assert "proxy_set_header   X-Real-IP $remote_addr;" in CONF  # what KECK_CLIENT_HEADER=X-Real-IP reads


def test_csp_hashes_match_the_installed_packages():
    """Streamlit's index.html and the cookie component have inline scripts; an upgrade that changes one must
    update the CSP."""
    import extra_streamlit_components
    pages = [Path(streamlit.__file__).parent / "static" / "index.html",
             Path(extra_streamlit_components.__file__).parent / "CookieManager" / "frontend" / "build" / "index.html"]
    scripts = [s for p in pages for s in re.findall(r"<script>(.*?)</script>", p.read_text(encoding="utf-8"), re.S)]
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in scripts}
    assert hashes and hashes <= set(re.split(r"[\s;]+", header("Content-Security-Policy")))


NGINX = pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed here (apt-get install nginx)")


def nginx_conf(tmp_path: Path, upstream: str = "127.0.0.1:8601", http: int = 80, https: int = 443) -> Path:
    """deploy/nginx.conf in a runnable frame: a self-signed certificate, ports and upstream for the test."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=atlas.example.de",
                    "-keyout", str(key), "-out", str(cert), "-days", "1"], check=True, capture_output=True)
    site = (re.sub(r"    server 127\.0\.0\.1:86\d\d [^\n]*\n", "", CONF)
            .replace("hash $keck_route consistent;", f"hash $keck_route consistent; server {upstream};")
            .replace("/etc/ssl/certs/atlas.example.de.pem", str(cert))
            .replace("/etc/ssl/private/atlas.example.de.key", str(key))
            .replace("/var/cache/nginx/keck", str(tmp_path / "cache"))
            .replace("listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;")
            .replace("listen 80;", f"listen 127.0.0.1:{http};")
            .replace("listen [::]:443 ssl;", "").replace("listen [::]:80;", ""))
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"user {getpass.getuser()}; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; events {{}}\n"
                    f"http {{ access_log off; {site} }}\n")
    return conf


@NGINX
def test_nginx_accepts_the_file(tmp_path):
    result = subprocess.run(["nginx", "-t", "-c", str(nginx_conf(tmp_path)), "-p", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@NGINX
@pytest.mark.browser
def test_the_atlas_behind_nginx_over_https(servers, browser, tmp_path):
    """The real proxy in front of the public instance: the websocket works, the headers arrive, no violation."""
    https = free_port()
    conf = nginx_conf(tmp_path, servers["public"].removeprefix("http://"), free_port(), https)
    proxy = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"])
    try:
        time.sleep(1)
        context = browser.new_context(ignore_https_errors=True)
        page = context.new_page()
        violations = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        response = page.goto(f"https://127.0.0.1:{https}/karte")
        assert response.headers["content-security-policy"] == header("Content-Security-Policy")
        assert response.headers["strict-transport-security"] and response.headers["x-frame-options"] == "SAMEORIGIN"
        wait_idle(page)  # the script ran: Streamlit's websocket works through the proxy
        page.wait_for_selector("div.keck-legend", timeout=30_000)
        page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=30_000)
        assert not violations, violations
        context.close()
    finally:
        proxy.terminate()
        proxy.wait(timeout=20)


@pytest.fixture(scope="module")
def proxied_browser(playwright_driver):
    """Chromium as behind the proxy: responses fulfilled by the test count as the server's own, so Chromium's
    local-network check (which would refuse the websocket to 127.0.0.1 from such a page) is off."""
    b = playwright_driver.chromium.launch(executable_path=CHROMIUM,
                                          args=[*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks"])
    yield b
    b.close()


@pytest.fixture()
def strict_page(proxied_browser):
    """A page whose every response carries the deployment's CSP and frame headers; violations are collected."""
    context = proxied_browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    extra = {"content-security-policy": header("Content-Security-Policy"),
             "x-frame-options": header("X-Frame-Options")}

    def with_headers(route):
        response = route.fetch()
        kept = {k: v for k, v in response.headers.items() if k not in ("content-encoding", "content-length")}
        route.fulfill(response=response, headers={**kept, **extra})  # the body arrives decoded

    page.route("**/*", with_headers)
    page.violations = []
    page.on("console", lambda m: page.violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.error('Content Security Policy: ' + e.violatedDirective + ' ' + e.blockedURI))")
    yield page
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("path, shown", [
    ("/karte?ind2=ew_u18&poi=kita", '[data-testid="stDeckGlJsonChart"] canvas'),
    ("/diagramme", ".js-plotly-plot"),
    ("/zeitreihe", ".js-plotly-plot"),
    ("/tabelle", '[data-testid="stDataFrame"]'),
    ("/indikatoren", '[data-testid="stMarkdown"]'),
])
def test_public_pages_work_under_the_csp(servers, strict_page, path, shown):
    strict_page.goto(servers["public"] + path)
    wait_idle(strict_page)
    strict_page.wait_for_selector(shown, timeout=30_000)
    strict_page.wait_for_timeout(1500)
    assert not strict_page.violations, strict_page.violations
    assert not strict_page.locator('[data-testid="stException"]').count()


@pytest.mark.browser
def test_login_and_the_cookie_component_work_under_the_csp(servers, accounts, strict_page):
    signed_in(strict_page, servers["internal"] + "/einrichtungen", accounts["keck_admin"])
    strict_page.wait_for_selector('[data-testid="stDeckGlJsonChart"], [data-testid="stDataFrame"]', timeout=30_000)
    strict_page.wait_for_timeout(1500)
    assert not strict_page.violations, strict_page.violations


def test_the_csp_allows_the_german_layer_by_its_hash():
    """The German layer's script is the same on every page; a change to its texts changes its hash, which the
    Content-Security-Policy must name (else nginx-served pages run without it: English, no lang, no titles)."""
    from keck_data.ui import german
    assert f"'{german.SCRIPT_HASH}'" in (ROOT / "deploy" / "nginx.conf").read_text()
