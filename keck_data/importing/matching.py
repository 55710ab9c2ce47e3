"""Which area a delivered row belongs to: a ladder of rules, reported per row.

exact key → normalised key (digits only, leading zeros and prefixes ignored) → exact name → normalised name
(number prefixes, case, umlauts, whitespace and hyphens ignored) → combined row ("A und B": an area group of
the named areas) → unmatched, with up to three suggestions. A rule that finds more than one area is never taken.
"""
from __future__ import annotations

import difflib
import re

import pandas as pd

from ..area_groups import group_key

RULES = {"key": "Schlüssel", "key_norm": "Schlüssel (normalisiert)", "name": "Name",
         "name_norm": "Name (normalisiert)", "combined": "kombinierte Zeile → Gebietsgruppe"}
MAX_SUGGESTED = 200  # rows that get suggestions (each compares with every area name)


def norm_key(key: str) -> str:
    """"SR-0101", "0101" and 101 → "101"; other keys (letters after digits, no digits) only in lower case."""
    m = re.fullmatch(r"[A-Za-z_\- ]*(\d+)(\.0)?", key.strip())
    return (m.group(1).lstrip("0") or "0") if m else key.strip().lower()


def norm_name(name: str) -> str:
    """"01 Altstadt-Süd" → "altstadt sued"."""
    text = name.strip().lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    text = re.sub(r"^\d+[\s.:)\-]+", "", text)
    return re.sub(r"[\s\-‐–_/.,]+", " ", text).strip()


def _unique_index(keys: pd.Series, labels: pd.Series) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(label → key where the label is unique, label → keys where it is not)."""
    groups = pd.Series(keys.to_numpy()).groupby(labels.to_numpy()).agg(list)
    unique = {lab: ks[0] for lab, ks in groups.items() if len(ks) == 1 and lab}
    several = {lab: ks for lab, ks in groups.items() if len(ks) > 1 and lab}
    return unique, several


def match(rows: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """For each distinct (key, name) of ``rows``: area_key, rule, reason (German, when unmatched).

    A combined row gets the key of the area group of its members (:func:`keck_data.area_groups.group_key`)
    and the rule "combined".

    ``rows``: columns key, name (name may be None); ``areas``: key, name of one level.
    Returns one row per distinct (key, name) with columns key, name, area_key, rule, reason, suggestions.
    """
    pairs = rows[["key", "name"]].astype(object).where(rows[["key", "name"]].notna(), "").astype(str)
    pairs = pairs.drop_duplicates().reset_index(drop=True)
    ladder = [("key", pairs["key"], dict(zip(areas["key"], areas["key"])), {}),
              ("key_norm", pairs["key"].map(norm_key), *_unique_index(areas["key"], areas["key"].map(norm_key))),
              ("name", pairs["name"].str.strip().str.lower(),
               *_unique_index(areas["key"], areas["name"].str.strip().str.lower())),
              ("name_norm", pairs["name"].map(norm_name), *_unique_index(areas["key"], areas["name"].map(norm_name)))]
    area_key = pd.Series([None] * len(pairs), dtype=object)
    rule = pd.Series([None] * len(pairs), dtype=object)
    reason = pd.Series([None] * len(pairs), dtype=object)
    for name, probe, unique, several in ladder:
        todo = area_key.isna() & probe.ne("")
        found = probe[todo].map(unique)
        hit = found.notna()
        area_key[found.index[hit]] = found[hit]
        rule[found.index[hit]] = name
        amb = probe[todo & ~area_key.notna()].map(several).dropna()
        for i, keys in amb.items():
            if reason[i] is None:
                reason[i] = (f"{RULES[name]} „{pairs.at[i, 'key'] if name.startswith('key') else pairs.at[i, 'name']}“ "
                             f"passt zu mehreren Gebieten ({', '.join(keys[:5])}) – nicht übernommen")
    by_name = dict(zip(areas["name"].map(norm_name), areas["key"]))
    for i in area_key.index[area_key.isna()]:
        members = combined(pairs.at[i, "name"], by_name)
        if members:
            area_key[i], rule[i] = group_key(members), "combined"
    names = list(areas["name"].map(norm_name))
    label = dict(zip(names, areas["key"] + " " + areas["name"]))
    suggestions = pd.Series([[]] * len(pairs), dtype=object)
    for n, i in enumerate(area_key.index[area_key.isna()]):
        probe = norm_name(pairs.at[i, "name"]) or pairs.at[i, "key"]
        if n < MAX_SUGGESTED and probe:
            suggestions[i] = [label[c] for c in difflib.get_close_matches(probe, names, n=3, cutoff=0.6)]
        if reason[i] is None:
            named = pairs.at[i, "name"] not in ("", pairs.at[i, "key"])  # a key column alone is also read as names
            what = f"Schlüssel „{pairs.at[i, 'key']}“" + (f", Name „{pairs.at[i, 'name']}“" if named else "")
            reason[i] = f"{what} unbekannt"
    return pairs.assign(area_key=area_key, rule=rule, reason=reason, suggestions=suggestions)


_JOINERS = re.compile(r"\s+und\s+|\s*[/&+,;]\s*")


def combined(name: str, by_name: dict[str, str]) -> list[str]:
    """The areas a combined row names ("Altstadt und Hafen", "A/B", "A, B"): at least two distinct areas of
    the level (``by_name``: normalised name → key), every part matched by its normalised name; else []."""
    parts = [norm_name(p) for p in _JOINERS.split(name or "") if p.strip()]
    if len(parts) < 2:
        return []
    found = [by_name.get(p) for p in parts]
    return found if all(found) and len(set(found)) == len(found) else []
