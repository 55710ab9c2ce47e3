"""Users, roles and logins (no streamlit): bcrypt credentials, a login throttle, server-side session ends.

* Credentials (bcrypt hashes only) live in ``auth_config/credentials.yaml`` in streamlit-authenticator's format;
  roles and topic rights in the warehouse (``user_role``), so changing them is an audited write.
* The cookie key comes from ``KECK_COOKIE_KEY`` or ``auth_config/secrets.toml`` (both outside git); internal
  mode refuses to start with a missing, short, guessable or example key.
* Cookies are JWTs signed with that key; a session ends for real on logout or password change because
  ``session_epoch.not_before`` moves forward and older tokens are refused.
* Failed logins per user name *and client* cause a growing wait: checked, counted and recorded in one
  transaction, so parallel guesses are no faster than sequential ones, and an attacker elsewhere cannot lock a
  user out. ``login_attempt.username`` holds a hash of both (fixed size); rows expire after a day and the
  table is capped, so unknown names cannot grow the warehouse.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import math
import os
import re
import secrets
import threading
import tomllib
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import bcrypt
import jwt
import yaml

from .config import PROJECT_ROOT
from .errors import KeckError, PermissionDenied, ValidationError
from .policy import DEMO_ACCOUNTS, ROLES, Resource, User, can, system
from .warehouse import Tx, Warehouse, read_df

EXAMPLE_KEY = "CHANGE_ME_random_secret_of_at_least_32_characters"
COOKIE_NAME = "keck_atlas_session"
COOKIE_EXPIRY_DAYS = 0.5  # 12 hours
FREE_FAILURES = 2
MAX_WAIT_SECONDS = 300
MAX_USERNAME = 100
MAX_THROTTLE_ROWS = 10_000
THROTTLE_EXPIRY = timedelta(days=1)
MIN_KEY_BITS = 128
_THROTTLE_LOCKS = [threading.Lock() for _ in range(64)]  # one DuckDB writer process: these are global


def config_dir() -> Path:
    return Path(os.environ.get("KECK_AUTH_DIR", PROJECT_ROOT / "auth_config"))


# -- secrets and credentials -------------------------------------------------------------------------------

def cookie_key(directory: Path | None = None) -> str:
    """The cookie signing key; a missing, short, guessable or example key stops the internal instance."""
    key = os.environ.get("KECK_COOKIE_KEY")
    path = (directory or config_dir()) / "secrets.toml"
    if not key and path.exists():
        try:
            key = tomllib.loads(path.read_text(encoding="utf-8")).get("cookie_key")
        except tomllib.TOMLDecodeError as exc:
            raise KeckError(f"{path} ist keine gültige TOML-Datei ({exc}).") from None
    recipe = ("Einen Schlüssel erzeugen: python -c \"import secrets; print(secrets.token_hex(32))\" und als "
              f"KECK_COOKIE_KEY setzen oder in {path} als cookie_key = \"…\" eintragen "
              "(oder „python -m keck_data init-auth“ ausführen).")
    if not isinstance(key, str) or not key:
        raise KeckError("Die interne Instanz startet nicht ohne geheimen Cookie-Schlüssel. " + recipe)
    if "changeme" in re.sub(r"[^a-z]", "", key.lower()):
        raise KeckError("Der Cookie-Schlüssel ist der Beispielschlüssel aus der Dokumentation. " + recipe)
    raw = _key_bytes(key)
    if raw is None or len(raw) < 32 or min(_key_bits(raw), _key_bits(key.encode())) < MIN_KEY_BITS:
        raise KeckError("Der Cookie-Schlüssel ist nicht zufällig genug, um geheim zu sein: nötig sind mindestens "
                        "32 Byte aus einem Zufallsgenerator, hexadezimal oder Base64 geschrieben (Folgen und "
                        "Wiederholungen wie 0123456789abcdef… gelten nicht). " + recipe)
    return key


def _key_bytes(key: str) -> bytes | None:
    """The random bytes a key writes down: hex (token_hex) or Base64/URL-safe Base64 (token_urlsafe); None for
    other text (a passphrase or a word is not a generated key)."""
    if re.fullmatch(r"(?:[0-9a-fA-F]{2})+", key):
        return bytes.fromhex(key)
    if re.fullmatch(r"[A-Za-z0-9+/_-]+={0,2}", key):
        try:
            return base64.urlsafe_b64decode(key.replace("+", "-").replace("/", "_") + "=" * (-len(key) % 4))
        except (binascii.Error, ValueError):
            return None
    return None


def _key_bits(raw: bytes) -> float:
    """Estimated randomness in bits: length × Shannon entropy of the byte frequencies, of the bytes and of their
    differences (so repetitions such as "1234567890" × 4 and sequences such as 00 01 02 … or the alphabet both
    score low; 32 bytes from a CSPRNG score about 150, their hex or Base64 text more). Used on the decoded
    bytes and on the key's text."""
    def shannon(values) -> float:
        counts = Counter(values).values()
        total = sum(counts)
        return -total * sum(c / total * math.log2(c / total) for c in counts)
    differences = [(b - a) % 256 for a, b in zip(raw, raw[1:])]
    return min(shannon(raw), shannon(differences) * len(raw) / max(len(differences), 1))


def _credentials_path(directory: Path | None = None) -> Path:
    return (directory or config_dir()) / "credentials.yaml"


def load_credentials(directory: Path | None = None) -> dict:
    path = _credentials_path(directory)
    if not path.exists():
        return {"usernames": {}}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data.get("credentials", {"usernames": {}})


def save_credentials(creds: dict, directory: Path | None = None) -> None:
    path = _credentials_path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump({"credentials": creds}, allow_unicode=True), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise ValidationError("Das Passwort muss mindestens 10 Zeichen lang sein.")
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def init_auth(wh: Warehouse, directory: Path | None = None) -> list[tuple[str, str, str | None]]:
    """First start: a random cookie key and one demo account per role (random passwords, returned once).

    Roles live in the warehouse, passwords in the folder, so a warehouse that shares its folder with another one
    starts without roles: the demo accounts already in the folder get their role here (password None: unchanged).
    Returns (username, role, password) of every account created or given its role.
    """
    directory = directory or config_dir()
    directory.mkdir(parents=True, exist_ok=True)
    secrets_path = directory / "secrets.toml"
    if not secrets_path.exists() and not os.environ.get("KECK_COOKIE_KEY"):
        secrets_path.write_text(f'cookie_key = "{secrets.token_hex(32)}"\n', encoding="utf-8")
        os.chmod(secrets_path, 0o600)
    creds = load_credentials(directory)
    created: list[tuple[str, str, str | None]] = []
    if not creds["usernames"]:
        for username, name, role in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(12)
            creds["usernames"][username] = {"name": name, "password": hash_password(password), "email": ""}
            created.append((username, role, password))
        save_credentials(creds, directory)
    else:
        with_role = set(read_df(wh, "SELECT username FROM user_role")["username"])
        created = [(u, role, None) for u, _, role in DEMO_ACCOUNTS if u in creds["usernames"] and u not in with_role]
    if created:
        def roles(tx: Tx) -> None:
            for username, role, _ in created:
                tx.cur.execute("INSERT OR REPLACE INTO user_role VALUES (?, ?, NULL, TRUE)", [username, role])
                tx.audit("user_role", username, None, {"role": role})
        wh.write(system(), "init-auth", [Resource("user", u) for u, _, _ in created], roles)
    return created


def login_problems(wh: Warehouse, directory: Path | None = None) -> list[str]:
    """Why a login to this warehouse would fail, in German (empty: every account can sign in)."""
    directory = directory or config_dir()
    passwords = set(load_credentials(directory)["usernames"])
    roles = read_df(wh, "SELECT username, role, active FROM user_role ORDER BY username")
    problems = []
    try:
        cookie_key(directory)
    except KeckError as err:
        problems.append(str(err))
    no_role = sorted(passwords - set(roles["username"]))
    if no_role:
        problems.append(f"Konten in {directory} ohne Rolle in diesem Warehouse ({wh.path}): {', '.join(no_role)} – "
                        "ihre Anmeldung scheitert hier, bis ein Kommunen-Admin ihnen auf der Seite „Benutzer“ eine "
                        "Rolle gibt (Rollen gelten je Warehouse, Passwörter je Anmeldeordner KECK_AUTH_DIR).")
    no_password = sorted(set(roles.loc[roles["active"], "username"]) - passwords)
    if no_password:
        problems.append(f"Rollen ohne Passwort in {directory}: {', '.join(no_password)} – ihre Anmeldung scheitert; "
                        "zeigt KECK_AUTH_DIR auf den richtigen Anmeldeordner?")
    admins = [u for u, role, active in roles.itertuples(index=False) if active and u in passwords
              and can(User(u, u, role), "save-user", Resource("user", None))]
    if not admins:
        problems.append("Kein aktiver Kommunen-Admin mit Passwort: niemand kann in diesem Warehouse Benutzer "
                        "verwalten.")
    return problems


# -- login, throttle, sessions ----------------------------------------------------------------------------

def _throttle_key(username: str, client: str) -> str:
    return hashlib.sha256(f"{username.strip().lower()}\0{client}".encode()).hexdigest()


def _wait(row: tuple | None, now: datetime) -> float:
    if not row or row[0] <= FREE_FAILURES:
        return 0.0
    delay = min(2 ** (row[0] - FREE_FAILURES), MAX_WAIT_SECONDS)
    return max(0.0, delay - (now - row[1]).total_seconds())


def wait_seconds(wh: Warehouse, username: str, client: str = "", now: datetime | None = None) -> float:
    """How long this user name must wait on this client before the next attempt (0 = may try now)."""
    row = wh.cursor().execute("SELECT failures, last_failure FROM login_attempt WHERE username = ?",
                              [_throttle_key(username, client)]).fetchone()
    return _wait(row, now or datetime.now())


def _seconds(wait: float) -> str:
    n = max(1, math.ceil(wait))
    return f"{n} Sekunde" if n == 1 else f"{n} Sekunden"


def user(wh: Warehouse, username: str, directory: Path | None = None) -> User | None:
    """The active user with this name, or None."""
    return _active_user(wh, username, load_credentials(directory)["usernames"].get(username))


def _active_user(wh: Warehouse, username: str, entry: dict | None) -> User | None:
    row = wh.cursor().execute("SELECT role, topics, active FROM user_role WHERE username = ?", [username]).fetchone()
    if not entry or not row or not row[2]:
        return None
    return User(username, entry.get("name", username), row[0], tuple(row[1] or ()))


def sso_user(wh: Warehouse, username: str) -> User | None:
    """A user signed in through the identity provider (st.login): needs an active role, no password."""
    row = wh.cursor().execute("SELECT role, topics, active FROM user_role WHERE username = ?", [username]).fetchone()
    if not row or not row[2]:
        return None
    return User(username, username, row[0], tuple(row[1] or ()))


def authenticate(wh: Warehouse, username: str, password: str, client: str = "", directory: Path | None = None,
                 now: datetime | None = None) -> User:
    """Check a password behind the throttle of (user name, client); raises PermissionDenied in German.

    Throttle check, password check and the new count are one transaction, serialised per throttle key, so
    parallel attempts are checked no more often than sequential ones.
    """
    name = username.strip()
    if len(name) > MAX_USERNAME or len(password) > 1_000:
        raise ValidationError(f"Der Benutzername ist zu lang (höchstens {MAX_USERNAME} Zeichen) oder das Passwort "
                              "(höchstens 1.000 Zeichen).")
    key = _throttle_key(name, client)
    entry = load_credentials(directory)["usernames"].get(name)
    with _THROTTLE_LOCKS[int(key[:8], 16) % len(_THROTTLE_LOCKS)]:
        at = now or datetime.now()
        wait = _wait(wh.cursor().execute("SELECT failures, last_failure FROM login_attempt WHERE username = ?",
                                         [key]).fetchone(), at)
        if wait > 0:
            raise PermissionDenied(f"Zu viele Fehlversuche. Bitte {_seconds(wait)} warten.")
        ok = bool(entry) and bcrypt.checkpw(password.encode(), entry["password"].encode())
        found = _active_user(wh, name, entry) if ok else None

        def record(tx: Tx) -> None:
            if found:
                tx.cur.execute("DELETE FROM login_attempt WHERE username = ?", [key])
            else:
                tx.cur.execute("DELETE FROM login_attempt WHERE last_failure < ?", [at - THROTTLE_EXPIRY])
                tx.cur.execute("INSERT INTO login_attempt VALUES (?, 1, ?) ON CONFLICT (username) DO UPDATE SET "
                               "failures = login_attempt.failures + 1, last_failure = excluded.last_failure",
                               [key, at])
                tx.cur.execute("DELETE FROM login_attempt WHERE username IN (SELECT username FROM login_attempt "
                               "ORDER BY last_failure DESC OFFSET ?)", [MAX_THROTTLE_ROWS])
            # a name that is no account may be a mistyped password: it is not logged
            tx.audit("login", name if entry else None, None, {"ok": bool(found), "client": client[:64]})
        wh.write(found, "login" if found else "login-failed",
                 [Resource("login", found.username if found else None)], record)
    if not found:
        raise PermissionDenied("Benutzername oder Passwort ist falsch (oder das Konto ist deaktiviert).")
    return found


def issue_token(username: str, key: str, now: datetime | None = None) -> str:
    """A cookie token in streamlit-authenticator's format (username, exp_date), signed HS256."""
    exp = (now or datetime.now()) + timedelta(days=COOKIE_EXPIRY_DAYS)
    return jwt.encode({"username": username, "exp_date": exp.timestamp()}, key, algorithm="HS256")


def session_from_token(wh: Warehouse, token: str | None, key: str, directory: Path | None = None,
                       now: datetime | None = None) -> tuple[User, datetime] | None:
    """The user of a cookie token and when the token was issued, if its signature, expiry and server-side
    session are all valid. A session keeps the issue time (not the time it read the cookie) for
    :func:`session_valid`: a logout committed while it read the cookie then still ends it (issue 23)."""
    if not token:
        return None
    try:
        data = jwt.decode(token, key, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    now = now or datetime.now()
    exp = data.get("exp_date")
    if not isinstance(exp, (int, float)) or exp < now.timestamp() or "username" not in data:
        return None
    issued = datetime.fromtimestamp(exp) - timedelta(days=COOKIE_EXPIRY_DAYS)
    row = wh.cursor().execute("SELECT not_before FROM session_epoch WHERE username = ?",
                              [data["username"]]).fetchone()
    if row and issued < row[0]:
        return None
    found = user(wh, data["username"], directory)
    return (found, issued) if found else None


def session_valid(wh: Warehouse, username: str, issued: datetime) -> bool:
    """The user is still active and no logout/password change happened since ``issued`` (one query per user
    until the next write: every logout, password change or deactivation is one)."""
    row = wh.memo(("session_valid", username), lambda: wh.cursor().execute(
        "SELECT r.active, e.not_before FROM user_role r LEFT JOIN session_epoch e USING (username) "
        "WHERE r.username = ?", [username]).fetchone())
    return bool(row and row[0] and (row[1] is None or row[1] <= issued)) and \
        datetime.now() - issued < timedelta(days=COOKIE_EXPIRY_DAYS)


def end_sessions(wh: Warehouse, u: User, reason: str = "logout") -> None:
    """Logout / password change: every token issued before now stops working."""
    def write(tx: Tx) -> None:
        tx.cur.execute("INSERT OR REPLACE INTO session_epoch VALUES (?, ?)", [u.username, datetime.now()])
        tx.audit("session", u.username, None, {"ended": reason})
    wh.write(u, reason, [Resource("session", u.username)], write)


# -- user management (kommunen_admin) ----------------------------------------------------------------------

def save_user(wh: Warehouse, actor: User, username: str, name: str, role: str, topics: list[str] | None = None,
              password: str | None = None, active: bool = True, directory: Path | None = None) -> None:
    """Create or change a user; a new password ends the user's sessions."""
    if role not in ROLES:
        raise ValidationError(f"Unbekannte Rolle „{role}“.")
    if not username.strip() or not username.replace("_", "").replace(".", "").isalnum():
        raise ValidationError("Benutzernamen bestehen aus Buchstaben, Ziffern, Punkt und Unterstrich.")
    creds = load_credentials(directory)
    entry = creds["usernames"].get(username)
    if entry is None and not password:
        raise ValidationError("Ein neues Konto braucht ein Passwort.")
    before = wh.cursor().execute("SELECT role, topics, active FROM user_role WHERE username = ?", [username]).fetchone()
    entry = dict(entry or {}, name=name)
    if password:
        entry["password"] = hash_password(password)
    creds["usernames"][username] = entry

    def write(tx: Tx) -> None:
        tx.cur.execute("INSERT OR REPLACE INTO user_role VALUES (?, ?, ?, ?)", [username, role, topics or None, active])
        if password or not active:
            tx.cur.execute("INSERT OR REPLACE INTO session_epoch VALUES (?, ?)", [username, datetime.now()])
        tx.audit("user", username, None if before is None else {"role": before[0], "topics": before[1],
                                                                 "active": before[2]},
                 {"role": role, "topics": topics, "active": active, "password_changed": bool(password)})
    wh.write(actor, "save-user", [Resource("user", username)], write)
    save_credentials(creds, directory)


def list_users(wh: Warehouse, directory: Path | None = None):
    creds = load_credentials(directory)["usernames"]
    roles = read_df(wh, "SELECT username, role, topics, active FROM user_role ORDER BY username")
    roles["name"] = roles["username"].map(lambda u: creds.get(u, {}).get("name", ""))
    return roles
