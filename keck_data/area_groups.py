"""Area groups: one delivered value for several areas of a level ("Marktplatz und Domviertel").

Statistics offices publish small areas together. The value belongs to the group — stored in ``indicator_value``
under the group's key on the members' level — and is never split onto the members, which keep no value of their
own for that indicator and year. A group's key is its members' keys joined by "+", so it never collides with an
area key and the same members always make the same group.
"""
from __future__ import annotations

import pandas as pd

from .warehouse import Tx

SEPARATOR = "+"
AREA_TREE_SQL = ("SELECT a.level, a.key, l.parent_level, a.parent_key FROM area a JOIN spatial_level l "
                 "ON l.key = a.level ORDER BY l.ordering, a.key")


def group_key(member_keys) -> str:
    return SEPARATOR.join(sorted(member_keys))


def joint_name(names: list[str]) -> str:
    """"Marktplatz und Domviertel", "A, B und C"."""
    return " und ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def store(tx: Tx, level: str, groups: dict[str, list[tuple[str, str]]]) -> None:
    """Create the groups ``key → [(member key, member name), …]`` of ``level`` that do not exist yet."""
    for key, members in groups.items():
        exists = tx.cur.execute("SELECT 1 FROM area_group WHERE level = ? AND key = ?", [level, key]).fetchone()
        if exists:
            continue
        name = joint_name([n for _, n in members])
        tx.cur.execute("INSERT INTO area_group VALUES (?, ?, ?)", [level, key, name])
        tx.cur.executemany("INSERT INTO area_group_member VALUES (?, ?, ?)", [[level, key, m] for m, _ in members])
        tx.audit("area_group", f"{level}:{key}", None, {"name": name, "members": [m for m, _ in members]})


def members(cur, level: str | None = None) -> pd.DataFrame:
    """level, group_key, name (the group's), area_key (one row per member), ordered by group and member."""
    return cur.execute(
        "SELECT m.level, m.group_key, g.name, m.area_key FROM area_group_member m JOIN area_group g "
        "ON g.level = m.level AND g.key = m.group_key WHERE (? IS NULL OR m.level = ?) "
        "ORDER BY m.level, m.group_key, m.area_key", [level, level]).df()


def of_level(cur, level: str) -> dict[str, list[str]]:
    """group key → member keys of one level."""
    m = members(cur, level)
    return {k: list(g["area_key"]) for k, g in m.groupby("group_key", sort=True)}


def tree(cur) -> pd.DataFrame:
    """The area tree for disclosure control (level, key, parent_level, parent_key) with one node per group.

    A group node's parent is the lowest common ancestor of its members and ``members`` lists them (None for
    areas): relations add the group as the sum of its members, which stay in their parents' sums as unknowns.
    """
    areas = cur.execute(AREA_TREE_SQL).df()
    groups = members(cur)
    if groups.empty:
        return areas.assign(members=None)
    up = {(lv, k): (pl, pk) for lv, k, pl, pk in areas.itertuples(index=False)}
    nodes = []
    for (level, key), g in groups.groupby(["level", "group_key"], sort=True):
        parent = common_ancestor(up, level, list(g["area_key"]))
        nodes.append({"level": level, "key": key, "parent_level": parent[0], "parent_key": parent[1],
                      "members": list(g["area_key"])})
    return pd.concat([areas.assign(members=None), pd.DataFrame(nodes)], ignore_index=True)


def common_ancestor(up: dict, level: str, keys: list[str]) -> tuple[str | None, str | None]:
    """(level, key) of the lowest area above all ``keys`` (``up``: (level, key) → (parent level, parent key))."""
    def chain(node):
        out = []
        while (node := up.get(node, (None, None)))[1] is not None:
            out.append(node)
        return out
    chains = [chain((level, k)) for k in keys]
    shared = set(chains[0]).intersection(*chains[1:])
    return next((n for n in chains[0] if n in shared), (None, None))
