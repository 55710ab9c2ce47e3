"""Read access for the pages: every value that leaves here has privacy applied.

An :class:`Atlas` wraps one warehouse and the deployment's privacy rule; in public mode it sees released
indicators only (the published snapshot contains nothing else, this is a second fence).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import shapely

from . import area_groups, fmt, privacy
from .analysis import derived
from .errors import NotFoundError, ValidationError
from .warehouse import Warehouse, read_df

MAX_COMPARE = 3
MAX_PARENT_ROWS = 15  # parent areas shown as reference rows in tables (e.g. the Stadtbezirke)


@dataclass
class Atlas:
    """The read API over one warehouse."""

    wh: Warehouse
    public: bool = False
    rule: privacy.PrivacyRule = field(default_factory=privacy.PrivacyRule.from_settings)
    _memo: dict = field(default_factory=dict, repr=False)
    shared: dict = field(default_factory=dict, repr=False)  # results its readers keep for each other (UI loaders)

    def _cached(self, name: tuple, load: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """Metadata that changes only with a write: kept until the warehouse version moves on."""
        key = (self.wh.version(), *name)
        if key not in self._memo:
            if len(self._memo) > 256:
                self._memo.clear()
            self._memo[key] = load()
        return self._memo[key]

    # -- catalogue -----------------------------------------------------------
    def municipality(self) -> str:
        return self.wh.meta("municipality", "Kommune") or "Kommune"

    def is_demo(self) -> bool:
        return self.wh.meta("demo") == "true"

    def levels(self) -> pd.DataFrame:
        return self._cached(("levels",), lambda: read_df(
            self.wh, "SELECT key, name, parent_level, ordering FROM spatial_level ORDER BY ordering"))

    def level_name(self, level: str) -> str:
        lv = self.levels().set_index("key")
        if level not in lv.index:
            raise NotFoundError(f"Die Raumebene „{level}“ gibt es nicht.")
        return lv.loc[level, "name"]

    def topics(self) -> pd.DataFrame:
        return read_df(self.wh, "SELECT key, name FROM topic ORDER BY ordering")

    def indicators(self) -> pd.DataFrame:
        """All indicators (only released ones in public mode) with their topic name."""
        sql = ("SELECT i.*, t.name AS topic_name, t.ordering AS topic_ordering FROM indicator i "
               "JOIN topic t ON t.key = i.topic WHERE (NOT ? OR i.released) ORDER BY t.ordering, i.ordering")
        return self._cached(("indicators",), lambda: read_df(self.wh, sql, [self.public]))

    def indicator(self, key: str) -> pd.Series:
        inds = self._cached(("indicators_by_key",), lambda: self.indicators().set_index("key"))
        if key not in inds.index:
            raise NotFoundError(f"Den Indikator „{key}“ gibt es nicht (oder er ist nicht freigegeben).")
        return inds.loc[key]

    def years(self, indicator: str | None = None) -> list[int]:
        sql = "SELECT DISTINCT year FROM indicator_value WHERE (? IS NULL OR indicator = ?) ORDER BY year"
        return [int(y) for y in read_df(self.wh, sql, [indicator, indicator])["year"]]

    def areas(self, level: str) -> pd.DataFrame:
        return self._cached(("areas", level), lambda: read_df(
            self.wh, "SELECT key, name, parent_key FROM area WHERE level = ? ORDER BY key", [level]))

    def groups(self, level: str) -> pd.DataFrame:
        """Area groups of a level (one delivered value for several areas): key, name ("A und B"), members
        (list of area keys)."""
        def load() -> pd.DataFrame:
            m = area_groups.members(self.wh.cursor(), level)
            return m.groupby(["group_key", "name"], sort=True)["area_key"].agg(list).reset_index().rename(
                columns={"group_key": "key", "area_key": "members"})
        return self._cached(("groups", level), load)

    def uninhabited(self, level: str) -> list[str]:
        """Keys of the areas of a level flagged "ohne Wohnbevölkerung" (never missing in a parent's sum)."""
        return list(read_df(self.wh, "SELECT key FROM uninhabited_area WHERE level = ? ORDER BY key", [level])["key"])

    def area_label(self, level: str) -> dict[str, str]:
        a = self.areas(level)
        return dict(zip(a["key"], a["key"] + " " + a["name"]))

    # -- values with privacy ---------------------------------------------------
    def values(self, indicators: list[str], years: list[int] | None = None) -> pd.DataFrame:
        """Values of all levels with privacy applied.

        Returns indicator, level, area_key, year, value (NaN unless ``status`` is ok), status (``ok`` |
        ``suppressed`` = "k. A." | ``missing`` = "keine Daten"), note, reason (why a cell is "k. A."; internal
        only, None in public mode).
        """
        meta = self._meta()
        unknown = [k for k in indicators if k not in meta.index]
        if unknown:
            raise NotFoundError(f"Unbekannte oder nicht freigegebene Indikatoren: {', '.join(unknown)}.")
        key = ("protected", self._fingerprint())
        safe = self._memo.get(key)
        if safe is None:  # sessions share one Atlas: no iteration over the live dict, no KeyError if raced
            for stale in [k for k in list(self._memo) if k[0] == "protected"]:
                self._memo.pop(stale, None)
            safe = self._memo[key] = self._protected()
        chosen = safe["indicator"].isin(indicators)
        if years is not None:
            chosen &= safe["year"].isin(years)
        return safe[chosen].reset_index(drop=True)

    def data_version(self) -> str:
        """Changes whenever a value this atlas shows could change (values, relations, areas, privacy rule, mode)."""
        return repr((self.public, self.rule, self._fingerprint()))

    def _fingerprint(self) -> tuple:
        """What protection depends on (values, declared relations, areas), so that writes elsewhere — POIs,
        bookmarks, logins — do not start the secondary suppression again."""
        return self._cached(("fingerprint",), lambda: tuple(self.wh.cursor().execute(
            "SELECT (SELECT count(*) || ':' || coalesce(sum(hash(indicator, level, area_key, year, value, status)), 0)"
            " FROM indicator_value), (SELECT coalesce(sum(hash(key, kind, aggregation, numerator, denominator, "
            "parts, share, privacy)), 0) FROM indicator), (SELECT coalesce(sum(hash(level, key, parent_key)), 0) "
            "FROM area), (SELECT coalesce(sum(hash(level, group_key, area_key)), 0) FROM area_group_member), "
            "(SELECT coalesce(sum(hash(indicator, input)), 0) FROM derivation_input)"
        ).fetchone()))

    def _protected(self) -> pd.DataFrame:
        """Every value of the warehouse with privacy decided on all internal counts (released or not)."""
        raw = read_df(self.wh, "SELECT indicator, level, area_key, year, value, status, note FROM indicator_value")
        meta = read_df(self.wh, "SELECT * FROM indicator").set_index("key")
        meta["inputs"] = meta.index.map(derived.inputs_by_indicator(self.wh.cursor()))
        tree = self._cached(("tree",), lambda: area_groups.tree(self.wh.cursor()))
        snapshot = self.wh.meta("privacy_protected") is not None  # published: protected when it was written
        safe = privacy.apply(raw, meta, tree, self.rule, protected=snapshot)
        if self.public:
            safe["reason"] = None
        return safe

    def _meta(self) -> pd.DataFrame:
        return self._cached(("meta",), lambda: read_df(
            self.wh, "SELECT key, kind, aggregation, numerator, denominator, released FROM indicator "
                     "WHERE (NOT ? OR released)", [self.public]).set_index("key"))

    def level_values(self, indicator: str, level: str, year: int) -> pd.DataFrame:
        """One indicator on one level and year: key, name, value, status, text, members (every area, also
        without data; an area group with a value replaces its members: name "A und B (gemeinsam)", note
        "gemeinsamer Wert für A und B", members = their keys, None for areas)."""
        ind = self.indicator(indicator)
        vals = self.values([indicator], [year])
        vals = vals[vals["level"] == level][["area_key", "value", "status", "note"]]
        units = self.units(level, set(vals["area_key"]))
        out = units.merge(vals, left_on="key", right_on="area_key", how="left").drop(columns="area_key")
        out["note"] = out["note"].where(out["members"].isna(), "gemeinsamer Wert für " + out["joint"])
        out = out.drop(columns="joint")
        out["status"] = out["status"].fillna("missing")
        out["text"] = [fmt.value_text(v, s, int(ind["decimals"]), ind["unit"], n)
                       for v, s, n in zip(out["value"], out["status"], out["note"])]
        return out

    def incomplete(self, indicators: list[str], years: list[int] | None = None) -> pd.DataFrame:
        """Areas shown as "keine Daten (unvollständig …)" and which of their areas lack a value.

        Returns indicator, level, key, year, name, reason ("unvollständig: 2 von 48 Gebieten fehlen"), missing
        (names of the inhabited areas one level finer without a value, ", "-joined; an area of a group with a
        value has one). A "k. A." value counts as a value unless it was delivered hidden (internal reason).
        """
        meta = self.indicators().set_index("key")
        weights = {k: meta.loc[k, "weight"] for k in indicators if meta.loc[k, "aggregation"] == "weighted_mean"
                   and meta.loc[k, "weight"] in meta.index}  # a mean lacks where its weight does
        vals = self.values(list(dict.fromkeys([*indicators, *weights.values()])), years)
        gaps = vals[vals["indicator"].isin(indicators) & vals["status"].ne("ok")
                    & vals["note"].map(fmt.incomplete).notna()]
        columns = ["indicator", "level", "key", "year", "name", "reason", "missing"]
        if gaps.empty:
            return pd.DataFrame(columns=columns)
        valued = vals[vals["status"].eq("ok") | (vals["status"].eq("suppressed")
                                                 & vals["reason"].ne("bei der Lieferung unterdrückt"))]
        has = set(zip(valued["indicator"], valued["year"], valued["level"], valued["area_key"]))
        members = area_groups.members(self.wh.cursor())
        children = read_df(self.wh, "SELECT l.parent_level, a.parent_key, a.level, a.key, a.name FROM area a "
                                    "JOIN spatial_level l ON l.key = a.level WHERE NOT EXISTS (SELECT 1 FROM "
                                    "uninhabited_area u WHERE u.level = a.level AND u.key = a.key) ORDER BY a.key")
        rows = []
        for ind, level, key, year, note in gaps[["indicator", "level", "area_key", "year", "note"]].itertuples(
                index=False):
            mine = children[(children["parent_level"] == level) & (children["parent_key"] == key)]
            covered = {m for lv, g, m in zip(members["level"], members["group_key"], members["area_key"])
                       if (ind, year, lv, g) in has}
            lacking = [n for lv, k, n in zip(mine["level"], mine["key"], mine["name"]) if k not in covered and any(
                (i, year, lv, k) not in has for i in (ind, weights.get(ind, ind)))]
            rows.append([ind, level, key, int(year), self.area_label(level).get(key, key), fmt.incomplete(note),
                         ", ".join(lacking)])
        return pd.DataFrame(rows, columns=columns)

    def units(self, level: str, with_value: set[str]) -> pd.DataFrame:
        """The areas of a level (key, name, parent_key, members, joint), where the groups among ``with_value``
        replace their members: name "A und B (gemeinsam)", joint "A und B", members = the member keys."""
        groups = self.groups(level)
        groups = groups[groups["key"].isin(list(with_value))]
        areas = self.areas(level).assign(members=None, joint=None)
        if groups.empty:
            return areas
        covered = {m for ms in groups["members"] for m in ms}
        parent = dict(zip(areas["key"], areas["parent_key"]))
        rows = groups.assign(joint=groups["name"], name=groups["name"] + " (gemeinsam)", parent_key=[
            next(iter(p)) if len(p := {parent.get(m) for m in ms}) == 1 else None for ms in groups["members"]])
        return pd.concat([areas[~areas["key"].isin(list(covered))], rows[list(areas.columns)]], ignore_index=True)

    def reference_values(self, indicator: str, year: int) -> pd.DataFrame:
        """The values of the coarsest level (Gesamtstadt) for reference rows and lines."""
        top = self.levels().iloc[0]["key"]
        return self.level_values(indicator, top, year)

    # -- pages ---------------------------------------------------------------
    def table(self, indicators: list[str], level: str, year: int) -> pd.DataFrame:
        """Areas × indicators (German text cells) with the coarser levels' values as reference rows on top."""
        if not indicators:
            raise ValidationError("Bitte mindestens einen Indikator für die Tabelle wählen.")
        meta = self.indicators().set_index("key")
        vals = self.values(indicators, [year])
        areas = read_df(self.wh, "SELECT a.level, a.key, a.name, l.ordering, l.name AS level_name FROM area a "
                                 "JOIN spatial_level l ON l.key = a.level ORDER BY l.ordering, a.key")
        target_order = int(areas.loc[areas["level"] == level, "ordering"].min())
        parent = self.levels().set_index("key").loc[level, "parent_level"]
        few_parents = (areas["level"] == parent).sum() <= MAX_PARENT_ROWS
        shown = areas[(areas["level"] == level) | ((areas["ordering"] < target_order) & (areas["ordering"] == 0))
                      | ((areas["level"] == parent) & few_parents)]
        frame = shown[["level", "key", "name", "level_name"]].copy()
        units = self.units(level, set(vals.loc[vals["level"] == level, "area_key"]))
        frame = pd.concat([frame[frame["level"] != level], units[["key", "name"]].assign(
            level=level, level_name=self.level_name(level)).sort_values("key")], ignore_index=True)
        frame["reference"] = frame["level"] != level
        for key in indicators:
            v = vals[vals["indicator"] == key][["level", "area_key", "value", "status", "note"]]
            merged = frame.merge(v, left_on=["level", "key"], right_on=["level", "area_key"], how="left")
            frame[meta.loc[key, "name"]] = [
                fmt.value_text(val, st if isinstance(st, str) else "missing", int(meta.loc[key, "decimals"]),
                               meta.loc[key, "unit"], n)
                for val, st, n in zip(merged["value"], merged["status"], merged["note"])]
            frame[f"_num_{key}"] = merged["value"].to_numpy()
        return frame.reset_index(drop=True)

    def timeseries(self, indicator: str, level: str, area_keys: list[str]) -> pd.DataFrame:
        """Yearly values of chosen areas and the city; years without value stay NaN (gaps, never 0). A member of
        an area group shows the group's value in the years the group has one, its series labelled
        "0101 Marktplatz (gemeinsam mit Domviertel)"."""
        vals = self.values([indicator])
        top = self.levels().iloc[0]["key"]
        years = sorted(vals["year"].unique())
        names = self.area_label(level)
        city = self.areas(top)
        plain = dict(zip(self.areas(level)["key"], self.areas(level)["name"]))
        group_of = {m: (k, ms) for k, ms in self.groups(level)[["key", "members"]].itertuples(index=False) for m in ms}
        parts = []
        for lv, key, label in [(level, k, names.get(k, k)) for k in area_keys] + \
                [(top, k, n) for k, n in zip(city["key"], city["name"])]:
            v = vals[(vals["level"] == lv) & (vals["area_key"] == key)].set_index("year")
            s = v.reindex(years)
            if lv == level and key in group_of:
                group, members = group_of[key]
                joint = vals[(vals["level"] == lv) & (vals["area_key"] == group)].set_index("year").reindex(years)
                use = s["status"].isna() & joint["status"].notna()
                s = s.mask(use, joint)
                if use.any():
                    label += " (gemeinsam mit " + " und ".join(plain[m] for m in members if m != key) + ")"
            parts.append(pd.DataFrame({"year": years, "series": label, "value": s["value"].to_numpy(),
                                       "status": s["status"].fillna("missing").to_numpy(),
                                       "is_city": lv == top}))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def change_since(self, ts: pd.DataFrame, base_year: int) -> pd.DataFrame:
        """Per series: the value in the base year, the last year with a value, and the difference."""
        rows = []
        for series, g in ts.groupby("series", sort=False):
            base = g.loc[(g["year"] == base_year) & g["value"].notna(), "value"]
            last = g[g["value"].notna()].tail(1)
            b = float(base.iloc[0]) if len(base) else np.nan
            lv = float(last["value"].iloc[0]) if len(last) else np.nan
            rows.append({"series": series, "base": b, "last_year": int(last["year"].iloc[0]) if len(last) else None,
                         "last": lv, "change": lv - b})
        return pd.DataFrame(rows)

    def compare(self, level: str, area_keys: list[str], year: int) -> pd.DataFrame:
        """Up to three areas side by side: every indicator grouped by Themenfeld, the city value, differences."""
        if not area_keys:
            raise ValidationError("Bitte mindestens ein Gebiet für den Vergleich wählen.")
        if len(area_keys) > MAX_COMPARE:
            raise ValidationError(
                f"Es können höchstens {MAX_COMPARE} Gebiete verglichen werden; bitte ein Gebiet entfernen, "
                "bevor ein weiteres hinzugefügt wird.")
        names = self.area_label(level)
        unknown = [k for k in area_keys if k not in names]
        if unknown:
            raise NotFoundError(f"Unbekannte Gebiete auf dieser Ebene: {', '.join(unknown)}.")
        meta = self.indicators()
        vals = self.values(list(meta["key"]), [year])
        top = self.levels().iloc[0]["key"]
        groups = self.groups(level)
        joint = {m: (k, n) for k, n, ms in groups[["key", "name", "members"]].itertuples(index=False) for m in ms}
        rows = []
        for _, ind in meta.iterrows():
            v = vals[vals["indicator"] == ind["key"]]
            city = v[v["level"] == top]
            cv = float(city["value"].iloc[0]) if len(city) and city["status"].iloc[0] == "ok" else np.nan
            row = {"topic": ind["topic_name"], "indicator": ind["key"], "name": ind["name"], "unit": ind["unit"],
                   "decimals": int(ind["decimals"]), "city": cv,
                   "city_text": fmt.value_text(cv, "ok" if not np.isnan(cv) else "missing", int(ind["decimals"]),
                                               ind["unit"], city["note"].iloc[0] if len(city) else None)}
            for key in area_keys:
                a = v[(v["level"] == level) & (v["area_key"] == key)]
                st = a["status"].iloc[0] if len(a) else "missing"
                val = float(a["value"].iloc[0]) if len(a) and st == "ok" else np.nan
                row[names[key]] = fmt.value_text(val, st, int(ind["decimals"]), ind["unit"],
                                                 a["note"].iloc[0] if len(a) else None)
                row[f"_num_{key}"] = val
                if not len(a) and key in joint:  # the member of a group: the group's value, labelled as such
                    g = v[(v["level"] == level) & (v["area_key"] == joint[key][0])]
                    if len(g):
                        row[names[key]] = (fmt.value_text(g["value"].iloc[0], g["status"].iloc[0],
                                                          int(ind["decimals"]), ind["unit"])
                                           + f" (gemeinsamer Wert für {joint[key][1]})")
                        val = row[f"_num_{key}"] = float(g["value"].iloc[0]) if g["status"].iloc[0] == "ok" \
                            else np.nan  # the chart draws the group's bar for the member too
                diff = np.nan if ind["kind"] == "count" else val - cv  # a count differs from the total anyway
                row[f"Δ {names[key]}"] = fmt.difference(diff, int(ind["decimals"]), ind["unit"])
            rows.append(row)
        return pd.DataFrame(rows)

    def scatter(self, x: str, y: str, level: str, year: int) -> tuple[pd.DataFrame, float | None]:
        """Two indicators per area (shown values only) and Pearson's r."""
        vx = self.level_values(x, level, year)[["key", "name", "value", "status"]]
        vy = self.level_values(y, level, year)[["key", "value", "status"]]
        both = vx.merge(vy, on="key", suffixes=("_x", "_y"))
        both = both[(both["status_x"] == "ok") & (both["status_y"] == "ok")].dropna(subset=["value_x", "value_y"])
        r = float(np.corrcoef(both["value_x"], both["value_y"])[0, 1]) if len(both) >= 3 else None
        return both, r

    # -- geometry and POIs -----------------------------------------------------
    def display_shapes(self, level: str) -> pd.DataFrame:
        """key, name, rings (lists of [lon, lat] rounded to ~1 m) and centroid of every area of a level, then of
        every area group (the members' dissolved outline; name "A und B (gemeinsam)", members = their keys)."""
        df = read_df(self.wh, "SELECT key, name, NULL AS members, ST_AsWKB(geom_display) AS wkb, "
                              "ST_X(ST_Centroid(geom)) AS cx, ST_Y(ST_Centroid(geom)) AS cy FROM area "
                              "WHERE level = ? ORDER BY key", [level])
        grouped = read_df(self.wh, "SELECT g.key, g.name || ' (gemeinsam)' AS name, list(a.key ORDER BY a.key) AS "
                                   "members, ST_AsWKB(ST_Union_Agg(a.geom_display)) AS wkb, "
                                   "ST_X(ST_Centroid(ST_Union_Agg(a.geom))) AS cx, "
                                   "ST_Y(ST_Centroid(ST_Union_Agg(a.geom))) AS cy FROM area_group g "
                                   "JOIN area_group_member m ON m.level = g.level AND m.group_key = g.key "
                                   "JOIN area a ON a.level = m.level AND a.key = m.area_key WHERE g.level = ? "
                                   "GROUP BY g.key, g.name ORDER BY g.key", [level])
        df = pd.concat([df, grouped], ignore_index=True) if len(grouped) else df
        geoms = shapely.from_wkb([bytes(b) for b in df["wkb"]])
        df["rings"] = [_rings(g) for g in geoms]
        return df.drop(columns="wkb")

    def area_geometry(self, level: str) -> pd.DataFrame:
        """key, name, parent_key, geom (shapely, EPSG:4326, full detail) and the representative point (px, py:
        a point on the surface, never outside a concave area) of every area of a level."""
        def load() -> pd.DataFrame:
            df = read_df(self.wh, "SELECT key, name, parent_key, ST_AsWKB(geom) AS wkb, "
                                  "ST_X(ST_PointOnSurface(geom)) AS px, ST_Y(ST_PointOnSurface(geom)) AS py "
                                  "FROM area WHERE level = ? ORDER BY key", [level])
            df["geom"] = shapely.from_wkb([bytes(b) for b in df["wkb"]])
            return df.drop(columns="wkb")
        return self._cached(("area_geometry", level), load)

    def bounds(self) -> tuple[float, float, float, float]:
        row = self.wh.cursor().execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent_Agg(geom) AS e FROM area)"
        ).fetchone()
        return tuple(float(x) for x in row)

    def poi_categories(self) -> pd.DataFrame:
        return read_df(self.wh, "SELECT key, name, color FROM poi_category ORDER BY name")

    def pois(self, categories: list[str]) -> pd.DataFrame:
        sql = ("SELECT p.id, p.name, c.name AS category_name, p.category, c.color, p.address, p.opening_hours, "
               "p.target_group, p.capacity, p.website, p.contact, p.description, ST_X(p.geom) AS lon, "
               "ST_Y(p.geom) AS lat FROM poi p JOIN poi_category c ON c.key = p.category "
               "WHERE list_contains(?, p.category) AND (NOT ? OR p.public) ORDER BY p.name")
        return read_df(self.wh, sql, [categories, self.public])


def _rings(geom) -> list:
    """Polygon rings as nested lists for deck.gl (holes are dropped: the map only needs the fill)."""
    polys = shapely.get_parts(geom)
    return [np.round(np.asarray(p.exterior.coords), 5).tolist() for p in polys if not p.is_empty]
