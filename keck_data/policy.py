"""Who may do what: the one permission question ``can(user, action, resource)`` (DESIGN.md rule 6).

:meth:`Warehouse.write <keck_data.warehouse.Warehouse.write>` asks it for every resource a write touches, so
no write path (editing, importers, undo, release, publish, bookmarks, users) can forget the check. Pages ask
it for navigation. Role names appear only in this module; an action it does not know is refused.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import PermissionDenied

# capability a role needs for an action
READ, BOOKMARK, EDIT, RELEASE, PUBLISH, MANAGE_USERS, SIGN_IN = (
    "read", "bookmark", "edit", "release", "publish", "manage_users", "sign_in")
CONFERENCE = "conference"  # run a Sozialraumkonferenz and take its notes
ACTIONS = {
    "create-poi": EDIT, "update-poi": EDIT, "delete-poi": EDIT, "save-indicator": EDIT, "edit-values": EDIT,
    "save-derived": EDIT, "recompute-derived": EDIT,
    "import-values": EDIT, "import-areas": EDIT, "flag-areas": EDIT, "import-pois": EDIT, "release": RELEASE, "withdraw": RELEASE,
    "publish": PUBLISH, "save-bookmark": BOOKMARK, "delete-bookmark": BOOKMARK, "save-user": MANAGE_USERS,
    "login": SIGN_IN, "login-failed": SIGN_IN, "logout": SIGN_IN,
    "init-auth": MANAGE_USERS, "init-demo": EDIT,
    "start-session": CONFERENCE, "drive-session": CONFERENCE, "close-session": CONFERENCE, "save-note": CONFERENCE,
    "delete-note": CONFERENCE, "save-scenario": BOOKMARK,
    # Wirkungsziele are topic data of their indicator's Themenfeld (Resource kind "target")
    "save-target": EDIT, "import-targets": EDIT, "evaluate-targets": EDIT, "release-target": RELEASE,
    "withdraw-target": RELEASE,
}
MODERATOR_ONLY = {"drive-session", "close-session"}  # the session's own moderator, nobody else
AUTHOR_ONLY = {"save-note", "delete-note"}  # an existing note: its author (or the session's moderator)
ROLES = {  # role → (German label, capabilities, may be limited to Themenfelder)
    "kommunen_admin": ("Kommunen-Administration", {READ, BOOKMARK, EDIT, RELEASE, PUBLISH, MANAGE_USERS, CONFERENCE},
                       False),
    "keck_admin": ("KECK-Administration", {READ, BOOKMARK, EDIT, RELEASE, PUBLISH, CONFERENCE}, True),
    "keck_nutzer": ("KECK-Nutzung (nur lesen)", {READ, BOOKMARK}, False),
}
LEAST_ROLE = "keck_nutzer"  # where forms that assign a role start
SYSTEM_ROLE = "system"  # command line and first start: whoever runs them owns the files anyway
ALL_CAPABILITIES = {READ, BOOKMARK, EDIT, RELEASE, PUBLISH, MANAGE_USERS, CONFERENCE}
DEMO_ACCOUNTS = [("verwaltung", "Kommunen-Admin (Demo)", "kommunen_admin"),
                 ("statistik", "KECK-Admin (Demo)", "keck_admin"),
                 ("planung", "KECK-Nutzerin (Demo)", "keck_nutzer")]
SECTIONS = {"Atlas": READ, "Konferenz": READ, "Arbeitsbereich": EDIT, "Verwaltung": MANAGE_USERS}  # navigation sections
WHOLE_TOWN = {"area", "level", "snapshot", "topic"}  # kinds that concern every Themenfeld at once
TOPIC_DATA = {"indicator": "Indikator", "target": "Ziel"}  # kinds that belong to one Themenfeld


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str
    topics: tuple[str, ...] = ()  # empty: all Themenfelder

    @property
    def role_name(self) -> str:
        return ROLES[self.role][0] if self.role in ROLES else "System"


@dataclass(frozen=True)
class Resource:
    """What a write touches: kind (indicator, poi, bookmark, user, area, snapshot, login, page …) and key.

    ``topic`` is an indicator's Themenfeld; ``owner`` and ``public`` describe a bookmark.
    """

    kind: str
    key: str | None = None
    topic: str | None = None
    owner: str | None = None
    public: bool = False


def system(name: str = "system") -> User:
    """The acting user of the command line and of first-start set-up."""
    return User(name, name, SYSTEM_ROLE)


def _capabilities(user: User) -> set[str]:
    if user.role == SYSTEM_ROLE:
        return ALL_CAPABILITIES
    return ROLES[user.role][1] if user.role in ROLES else set()


def _topic_limited(user: User) -> bool:
    return bool(user.topics) and user.role in ROLES and ROLES[user.role][2]


def can(user: User | None, action: str, resource: Resource | str) -> bool:
    """May ``user`` do ``action`` (a write action or "open") to ``resource`` (a page section may be a string)?"""
    return reason(user, action, resource) is None


def reason(user: User | None, action: str, resource: Resource | str) -> str | None:
    """None if allowed, else the German sentence why not."""
    if isinstance(resource, str):
        resource = Resource("page", resource)
    if action == "open":
        needed = SECTIONS.get(resource.key or "")
    else:
        needed = ACTIONS.get(action)
    if needed is None:
        return f"Die Aktion „{action}“ ist nicht vorgesehen."
    if needed == SIGN_IN:  # logging in, failed attempts and ending one's own session
        return None if user is None or resource.key in (None, user.username) else "Nur die eigene Sitzung."
    if user is None:
        return "Bitte zuerst anmelden."
    if needed == BOOKMARK and resource.kind == "bookmark" and (resource.public or resource.owner not in (
            None, user.username)):
        needed = EDIT  # public bookmarks and other people's bookmarks belong to the data editors
    if needed not in _capabilities(user):
        if needed == MANAGE_USERS:
            return "Nur die Kommunen-Administration darf Benutzer verwalten."
        return f"Die Rolle „{user.role_name}“ darf das nicht („{action}“)."
    if action in MODERATOR_ONLY and resource.owner not in (None, user.username):
        return f"Nur die Moderation dieser Sitzung ({resource.owner}) steuert sie."
    if action in AUTHOR_ONLY and resource.owner not in (None, user.username):
        return f"Nur wer die Notiz geschrieben hat ({resource.owner}) oder die Moderation ändert sie."
    if _topic_limited(user):
        if resource.kind in WHOLE_TOWN or needed == PUBLISH:
            return ("Diese Änderung betrifft alle Themenfelder; Ihre Bearbeitungsrechte gelten nur für "
                    + ", ".join(user.topics) + ".")
        if resource.kind == "import_profile" and resource.owner not in (None, user.username):
            return (f"Die Importvorlage „{resource.key}“ gehört {resource.owner}; mit Bearbeitungsrechten nur für "
                    + ", ".join(user.topics) + " darf sie nicht geändert werden.")
        if resource.kind in TOPIC_DATA and resource.topic not in user.topics:
            return (f"Keine Bearbeitungsrechte für das Themenfeld „{resource.topic}“ "
                    f"({TOPIC_DATA[resource.kind]} „{resource.key}“).")
    return None


def require(user: User | None, action: str, resource: Resource | str) -> User:
    """The user, if allowed; else PermissionDenied with the German reason."""
    why = reason(user, action, resource)
    if why:
        raise PermissionDenied(why)
    return user


def role_label(role: str) -> str:
    return ROLES[role][0] if role in ROLES else role
