"""Logins under attack: an atomic throttle per user and client, bounded storage for unknown names, strong keys."""
import re
import threading
from datetime import datetime, timedelta

import bcrypt
import pytest

from keck_data import auth
from keck_data.errors import KeckError, PermissionDenied, ValidationError


@pytest.fixture()
def accounts(wh, tmp_path, monkeypatch):
    monkeypatch.setenv("KECK_AUTH_DIR", str(tmp_path / "auth"))
    monkeypatch.delenv("KECK_COOKIE_KEY", raising=False)
    return {u: p for u, _, p in auth.init_auth(wh)}


@pytest.fixture()
def checks(monkeypatch):
    """Counts the password checks that really ran."""
    count = []
    real = bcrypt.checkpw

    def counting(password, hashed):
        count.append(1)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counting)
    return count


def _burst(wh, n, username, password, client):
    results = []

    def attempt():
        try:
            auth.authenticate(wh, username, password, client=client)
            results.append("ok")
        except KeckError as err:
            results.append(str(err))

    threads = [threading.Thread(target=attempt) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_parallel_wrong_passwords_are_checked_no_more_often_than_sequential_ones(wh, accounts, checks):
    results = _burst(wh, 10, "statistik", "falsch-falsch", "203.0.113.9")
    assert len(checks) == auth.FREE_FAILURES + 1  # as many as one after the other: 3
    assert sum(bool(re.fullmatch(r"Zu viele Fehlversuche\. Bitte (2 Sekunden|1 Sekunde) warten\.", r))
               for r in results) == 10 - len(checks), results


def test_a_burst_from_one_client_does_not_lock_out_the_user_elsewhere(wh, accounts):
    _burst(wh, 10, "statistik", "falsch-falsch", "203.0.113.9")
    with pytest.raises(PermissionDenied, match="warten"):
        auth.authenticate(wh, "statistik", accounts["statistik"], client="203.0.113.9")
    assert auth.authenticate(wh, "statistik", accounts["statistik"], client="10.0.0.7").username == "statistik"


def test_one_attempt_every_few_minutes_cannot_keep_the_user_out(wh, accounts):
    t = datetime.now()
    for _ in range(12):  # the attacker tries again whenever the wait is over
        t += timedelta(seconds=auth.wait_seconds(wh, "statistik", "203.0.113.9", t) + 1)
        with pytest.raises(PermissionDenied):
            auth.authenticate(wh, "statistik", "falsch-falsch", client="203.0.113.9", now=t)
    assert auth.wait_seconds(wh, "statistik", "10.0.0.7", t) == 0
    assert auth.authenticate(wh, "statistik", accounts["statistik"], client="10.0.0.7", now=t).username == "statistik"


def test_wait_message_counts_seconds_in_german(wh, accounts):
    t0 = datetime.now()
    for _ in range(3):
        with pytest.raises(PermissionDenied, match="falsch"):
            auth.authenticate(wh, "statistik", "falsch-falsch", now=t0)
    with pytest.raises(PermissionDenied, match=r"Bitte 2 Sekunden warten\."):
        auth.authenticate(wh, "statistik", "falsch-falsch", now=t0)
    with pytest.raises(PermissionDenied, match=r"Bitte 1 Sekunde warten\."):
        auth.authenticate(wh, "statistik", "falsch-falsch", now=t0 + timedelta(seconds=1.5))


def test_a_huge_user_name_is_refused_without_writing(wh, accounts):
    wh.cursor().execute("CHECKPOINT")
    size = wh.path.stat().st_size
    audits = wh.cursor().execute("SELECT count(*) FROM audit_log").fetchone()[0]
    with pytest.raises(ValidationError, match="Benutzername ist zu lang"):
        auth.authenticate(wh, "x" * 20_000_000, "egal")
    wh.cursor().execute("CHECKPOINT")
    assert wh.path.stat().st_size - size < 1_000_000
    assert wh.cursor().execute("SELECT count(*) FROM audit_log").fetchone()[0] == audits


def test_failed_attempts_are_stored_hashed_bounded_and_expire(wh, accounts, monkeypatch):
    monkeypatch.setattr(auth, "MAX_THROTTLE_ROWS", 50)
    t0 = datetime.now()
    for i in range(80):
        with pytest.raises(PermissionDenied):
            auth.authenticate(wh, f"unbekannt{i}", "geheim-geheim", client="203.0.113.9", now=t0)
    rows = wh.cursor().execute("SELECT username FROM login_attempt").fetchall()
    assert len(rows) <= 50 and all(len(k) == 64 and "unbekannt" not in k for (k,) in rows)
    logged = wh.cursor().execute("SELECT entity_key, after FROM audit_log WHERE action = 'login-failed'").fetchall()
    assert len(logged) == 80 and not any("unbekannt" in str(row) for row in logged)  # could be a typed password
    with pytest.raises(PermissionDenied):  # a day later the old rows are gone
        auth.authenticate(wh, "noch-einer", "x", now=t0 + timedelta(days=1, seconds=1))
    assert wh.cursor().execute("SELECT count(*) FROM login_attempt").fetchone()[0] == 1


@pytest.mark.parametrize("line", [
    f"cookie_key = '{auth.EXAMPLE_KEY}'",  # the example, in single quotes (valid TOML)
    'cookie_key = "' + "a" * 32 + '"',
    'cookie_key = "' + "ab" * 40 + '"',
    'cookie_key = "mein-CHANGE_ME_random_secret_of_at_least_32_characters-2"',
    'cookie_key = "CHANGE-ME-random-secret-of-at-least-32-characters"',  # issue 23: all four were accepted
    'cookie_key = "' + "1234567890" * 4 + '"',
    'cookie_key = "' + "0123456789abcdef" * 2 + '"',
    'cookie_key = "' + "0123456789abcdef" * 4 + '"',  # 32 bytes, but a repetition
    'cookie_key = "abcdefghijklmnopqrstuvwxyz"',
    'cookie_key = "' + "abcdefghijklmnopqrstuvwxyz" * 2 + '"',  # decodes as Base64 to 39 bytes
    'cookie_key = "' + bytes(range(32)).hex() + '"',  # a sequence of 32 bytes
    'cookie_key = "Sozialraum-Atlas Musterstadt, interner Schlüssel!"',  # a phrase, not a generated key
])
def test_weak_cookie_keys_are_refused_with_a_recipe(tmp_path, monkeypatch, line):
    monkeypatch.delenv("KECK_COOKIE_KEY", raising=False)
    (tmp_path / "secrets.toml").write_text(line + "\n", encoding="utf-8")
    with pytest.raises(KeckError, match="secrets.token_hex"):
        auth.cookie_key(tmp_path)


def test_strong_cookie_keys_are_accepted(tmp_path, monkeypatch):
    import secrets
    monkeypatch.delenv("KECK_COOKIE_KEY", raising=False)
    key = secrets.token_urlsafe(32)
    (tmp_path / "secrets.toml").write_text(f"cookie_key = '{key}'\n", encoding="utf-8")
    assert auth.cookie_key(tmp_path) == key
    monkeypatch.setenv("KECK_COOKIE_KEY", secrets.token_hex(32))
    assert len(auth.cookie_key(tmp_path)) == 64
    for _ in range(200):  # generated keys pass however the dice fall
        monkeypatch.setenv("KECK_COOKIE_KEY", secrets.token_urlsafe(32))
        auth.cookie_key(tmp_path)


def test_the_internal_server_does_not_start_with_a_weak_key(tmp_path):
    """Not only the pages refuse: the process exits before Streamlit serves anything."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT
    env = {**os.environ, "KECK_MODE": "internal", "KECK_AUTH_DIR": str(tmp_path),
           "KECK_COOKIE_KEY": "0123456789abcdef" * 4}
    out = subprocess.run([sys.executable, "-m", "keck_data.ui.serve", "--server.headless", "true", "--server.port",
                          "1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Der Sozialraum-Atlas startet nicht: Der Cookie-Schlüssel ist nicht zufällig genug" in out.stderr
    assert "secrets.token_hex(32)" in out.stderr
