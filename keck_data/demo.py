"""The embedded demo municipality "Musterstadt": synthetic, seeded, no network."""
from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import aggregation, catalogue, demo_geometry, store
from .policy import Resource, system
from .warehouse import Tx, Warehouse

SEED = 20240611
YEARS = list(range(2015, 2025))
MUNICIPALITY = "Musterstadt"
MISSING_YEARS = {"sprachfoerderbedarf": (2020, 2021), "quote_sprachfoerderbedarf": (2020, 2021)}

LEVELS = [
    {"key": "gesamtstadt", "name": "Gesamtstadt", "parent_level": None, "ordering": 0},
    {"key": "stadtbezirk", "name": "Stadtbezirk", "parent_level": "gesamtstadt", "ordering": 1},
    {"key": "sozialraum", "name": "Sozialraum", "parent_level": "stadtbezirk", "ordering": 2},
]
DISTRICT_NAMES = ["Altstadt", "Nordviertel", "Am Hafen", "Lindenau", "Südfeld", "Ostend", "Westhügel"]
AREA_NAMES = [
    "Marktplatz", "Domviertel", "Schlossgarten", "Bahnhofsvorstadt", "Kanalufer", "Mühlenweg", "Brunnenhof",
    "Lindenhof", "Eichkamp", "Birkenweg", "Rosenhöhe", "Kastanienallee", "Ahornpark", "Weidengrund", "Am Anger",
    "Kirchberg", "Neue Heimat", "Sonnenhang", "Feldmark", "Gartenstadt", "Hafenkante", "Speicherstadt",
    "Werftstraße", "Fischerdorf", "Deichvorland", "Mühlenbach", "Schäferwiese", "Hohe Warte", "Am Wasserturm",
    "Ziegelei", "Kolonie", "Zechensiedlung", "Brückenkopf", "Auenwald", "Ulmenstraße", "Wiesengrund",
    "Finkenschlag", "Lerchenfeld", "Heidekamp", "Amselweg", "Nordstern", "Sternschanze", "Tannenbusch",
    "Holunderweg", "Krähenwinkel", "Felsenkeller", "Steinbruch", "Quellgrund", "Rathausviertel", "Alter Friedhof",
]
STREETS = ["Hauptstraße", "Schulstraße", "Gartenweg", "Bahnhofstraße", "Lindenallee", "Kirchplatz", "Mühlenweg",
           "Am Park", "Rosenstraße", "Ringstraße", "Birkenweg", "Friedensplatz", "Marktstraße", "Am Hafen"]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def build_areas(rng_seed: int = SEED) -> dict[str, gpd.GeoDataFrame]:
    """The three levels as GeoDataFrames (key, name, parent_key, geometry)."""
    city, districts, raeume, assignment = demo_geometry.generate(rng_seed, len(DISTRICT_NAMES), 48)
    gesamt = gpd.GeoDataFrame({"key": ["0"], "name": [MUNICIPALITY], "parent_key": [None]}, geometry=[city], crs=4326)
    bez = gpd.GeoDataFrame({
        "key": [f"{d + 1:02d}" for d in range(len(districts))], "name": DISTRICT_NAMES[: len(districts)],
        "parent_key": "0"}, geometry=districts, crs=4326)
    # Sozialraum keys: district key + running number, ordered west to east within a district
    order = sorted(range(len(raeume)), key=lambda i: (assignment[i], raeume[i].centroid.x))
    counters: dict[int, int] = {}
    rows = []
    for n, i in enumerate(order):
        d = int(assignment[i])
        counters[d] = counters.get(d, 0) + 1
        rows.append({"key": f"{d + 1:02d}{counters[d]:02d}", "name": AREA_NAMES[n % len(AREA_NAMES)],
                     "parent_key": f"{d + 1:02d}", "geometry": raeume[i]})
    soz = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    return {"gesamtstadt": gesamt, "stadtbezirk": bez, "sozialraum": soz}


def build_values(soz: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Plausible, correlated yearly values for every Sozialraum (long format)."""
    n = len(soz)
    cx = np.array([g.centroid.x for g in soz.geometry])
    cy = np.array([g.centroid.y for g in soz.geometry])
    # deprivation: a smooth gradient (the port in the south-east is poorer) plus local noise
    gradient = (cx - cx.mean()) / cx.std() * 0.6 - (cy - cy.mean()) / cy.std() * 0.7
    deprivation = gradient + rng.normal(0, 0.6, n)
    trend = rng.normal(0, 0.04, n)
    pop0 = rng.integers(3000, 14000, n).astype(float)
    small = rng.choice(n, 4, replace=False)  # industrial and harbour areas with few residents
    pop0[small] = rng.integers(120, 600, 4)
    b = rng.binomial
    rows = []
    for t, year in enumerate(YEARS):
        d = deprivation + trend * t
        pop = np.round(pop0 * (1 + 0.006 * t + rng.normal(0, 0.004, n))).astype(int)
        u18 = b(pop, np.clip(0.15 + 0.03 * d, 0.08, 0.26))
        u6 = b(u18, 0.34)
        u3 = b(u6, 0.5)
        a3_6 = u6 - u3
        a6_15 = b(u18 - u6, 0.75)
        u15 = u6 + a6_15
        o65 = b(pop, np.clip(0.22 - 0.03 * d, 0.08, 0.35))
        a15_65 = pop - u15 - o65
        hh_kinder = b(u18, 0.58)
        ae_share = np.clip(_sigmoid(-1.3 + 0.45 * d + rng.normal(0, 0.15, n)), 0.08, 0.5)
        hh_ae = b(hh_kinder, ae_share)
        score = 0.9 * d + 2.5 * (ae_share - 0.22) + rng.normal(0, 0.12, n)
        sgb2_q = 0.03 + 0.42 * _sigmoid(1.7 * score - 1.1)
        sgb2 = b(u15, sgb2_q)
        alo = b(a15_65, np.clip(0.05 + 0.025 * d, 0.01, 0.2))
        mig = b(u18, np.clip(_sigmoid(-0.4 + 0.7 * d), 0.05, 0.9))
        births = b(pop, np.clip(0.009 + 0.002 * d, 0.004, 0.02))
        schulanf = b(u6, 0.17)
        sprache = b(schulanf, np.clip(_sigmoid(-1.6 + 0.8 * d), 0.03, 0.7))
        abg = b(u18, 0.055)
        ohne = b(abg, np.clip(_sigmoid(-3.0 + 0.6 * d), 0.005, 0.3))
        ueb = b(u18 - u6, 0.06)
        gym = b(ueb, np.clip(_sigmoid(0.2 - 0.8 * d), 0.1, 0.85))
        overweight = b(schulanf, np.clip(_sigmoid(-2.3 + 0.45 * d), 0.03, 0.4))
        impf = b(schulanf, np.clip(_sigmoid(-2.6 + 0.3 * d), 0.02, 0.3))
        u9 = b(schulanf, np.clip(_sigmoid(2.6 - 0.5 * d), 0.6, 0.99))
        hze = b(u18, np.clip(0.02 + 0.015 * d, 0.003, 0.08))
        inob = b(u18, np.clip(0.0015 + 0.001 * d, 0.0002, 0.006))
        wohnungen = np.round(pop / rng.uniform(1.8, 2.1, n)).astype(int)
        sozialw = b(wohnungen, np.clip(0.06 + 0.04 * d, 0.0, 0.4))
        flaeche = np.clip(44 - 5 * d + rng.normal(0, 1.5, n) + 0.2 * t, 24, 70)
        miete = np.clip(7.5 - 0.8 * d + rng.normal(0, 0.3, n) + 0.25 * t, 5, 16)
        kita_u3 = b(u3, np.clip(0.35 + 0.015 * t - 0.05 * d, 0.1, 0.7))
        kita_36 = b(a3_6, np.clip(0.93 - 0.03 * d, 0.7, 0.99))
        plaetze = np.round((kita_u3 + kita_36) * rng.uniform(0.9, 1.15, n)).astype(int)
        spiel = np.clip(6 - 1.2 * d + rng.normal(0, 1.0, n), 0.5, 15)
        wahlb = b(pop - u18, np.clip(0.86 - 0.05 * d, 0.6, 0.95))
        waehler = b(wahlb, np.clip(_sigmoid(0.3 - 0.6 * d), 0.2, 0.8))
        verein = b(u18, np.clip(_sigmoid(-0.1 - 0.5 * d), 0.1, 0.7))
        alter = np.clip(43 - 2.5 * d + rng.normal(0, 1, n) + 0.1 * t, 30, 55)
        counts = {
            "ew_gesamt": pop, "ew_u3": u3, "ew_3_6": a3_6, "ew_u6": u6, "ew_6_15": a6_15, "ew_u15": u15,
            "ew_u18": u18, "ew_15_65": a15_65, "ew_65plus": o65, "geburten": births, "hh_kinder": hh_kinder,
            "hh_alleinerziehend": hh_ae, "sgb2_u15": sgb2, "arbeitslose": alo, "kinder_migration": mig,
            "inobhutnahmen": inob, "hze_faelle": hze, "schulanfaenger": schulanf, "sprachfoerderbedarf": sprache,
            "schulabgaenger": abg, "ohne_abschluss": ohne, "uebergaenge_gesamt": ueb, "uebergaenge_gym": gym,
            "uebergewicht": overweight, "impfluecke": impf, "u9_teilgenommen": u9, "wohnungen": wohnungen,
            "sozialwohnungen": sozialw, "kita_plaetze": plaetze, "kita_u3": kita_u3, "kita_3_6": kita_36,
            "wahlberechtigte": wahlb, "waehler": waehler, "vereinsmitglieder_u18": verein,
        }
        means = {"durchschnittsalter": alter, "wohnflaeche_pp": flaeche, "angebotsmiete": miete,
                 "spielflaeche_je_kind": spiel}
        z = [(x - x.mean()) / x.std() for x in (sgb2 / np.maximum(u15, 1), alo / np.maximum(a15_65, 1), ae_share)]
        means["sozialindex"] = 100 + 10 * np.mean(z, axis=0) / np.mean(z, axis=0).std()
        for ind in catalogue.INDICATORS:
            key = ind["key"]
            if ind["kind"] == "rate":
                num, den = counts[ind["numerator"]], counts[ind["denominator"]]
                with np.errstate(divide="ignore", invalid="ignore"):
                    vals = np.where(den > 0, num / np.maximum(den, 1) * ind["scale"], np.nan)
            else:
                vals = counts.get(key, means.get(key))
            missing = year in MISSING_YEARS.get(key, ()) or None
            for area_key, val in zip(soz["key"], vals):
                ok = not missing and not np.isnan(val)
                rows.append((key, area_key, year, float(val) if ok else None, "ok" if ok else "missing"))
    frame = pd.DataFrame(rows, columns=["indicator", "area_key", "year", "value", "status"])
    return frame.assign(level="sozialraum")


def build_pois(city, rng: np.random.Generator) -> pd.DataFrame:
    """≥ 150 points of interest in six categories, scattered over the town."""
    specs = [("kita", 62), ("spielplatz", 46), ("jugendzentrum", 12), ("familienzentrum", 10), ("schule", 26),
             ("beratungsstelle", 10)]
    minx, miny, maxx, maxy = city.bounds
    rows = []
    for cat, n in specs:
        for i in range(n):
            while True:
                x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
                if city.contains(shapely.Point(x, y)):
                    break
            street = STREETS[rng.integers(len(STREETS))]
            row = {"category": cat, "lon": round(x, 6), "lat": round(y, 6),
                   "address": f"{street} {rng.integers(1, 120)}, {34100 + rng.integers(0, 9) * 10} {MUNICIPALITY}",
                   "website": f"https://www.musterstadt.example/{cat}/{i + 1}", "public": True,
                   "contact": f"Tel. 0561 {rng.integers(100000, 999999)}"}
            if cat == "kita":
                row.update(name=f"Kita {AREA_NAMES[i % len(AREA_NAMES)]}", capacity=int(rng.integers(20, 150)),
                           opening_hours="Mo–Fr 7:00–16:30" if i % 3 else "Mo–Fr 6:30–17:30",
                           target_group="Kinder von 1 bis 6 Jahren")
            elif cat == "spielplatz":
                area = int(rng.integers(150, 4000))
                row.update(name=f"Spielplatz {street}", capacity=area, description=f"Fläche {area} m²",
                           target_group="Kinder bis 14 Jahre", opening_hours="täglich 8:00–20:00")
            elif cat == "jugendzentrum":
                row.update(name=f"Jugendzentrum {AREA_NAMES[(i * 3) % len(AREA_NAMES)]}",
                           capacity=int(rng.integers(30, 120)), target_group="Jugendliche von 12 bis 21 Jahren",
                           opening_hours="Di–Sa 14:00–21:00")
            elif cat == "familienzentrum":
                row.update(name=f"Familienzentrum {AREA_NAMES[(i * 5) % len(AREA_NAMES)]}",
                           target_group="Familien mit Kindern", opening_hours="Mo–Fr 9:00–17:00",
                           capacity=int(rng.integers(15, 60)))
            elif cat == "schule":
                kind = "Grundschule" if i % 2 == 0 else ("Gesamtschule" if i % 3 else "Gymnasium")
                row.update(name=f"{kind} {AREA_NAMES[(i * 7) % len(AREA_NAMES)]}",
                           capacity=int(rng.integers(150, 1100)), target_group="Schülerinnen und Schüler",
                           opening_hours="Mo–Fr 7:30–16:00")
            else:
                confidential = i < 2  # protected shelters are internal only
                row.update(name="Schutzwohnung (intern)" if confidential else
                           f"Erziehungsberatung {AREA_NAMES[(i * 11) % len(AREA_NAMES)]}",
                           target_group="Eltern, Kinder und Jugendliche", opening_hours="nach Vereinbarung",
                           capacity=None, public=not confidential)
            rows.append(row)
    return pd.DataFrame(rows)


def populate(tx: Tx) -> dict:
    """Write the whole demo municipality inside one transaction."""
    rng = np.random.default_rng(SEED)
    areas = build_areas()
    tx.cur.execute("INSERT OR REPLACE INTO meta VALUES ('municipality', ?), ('demo', 'true')", [MUNICIPALITY])
    tx.audit("meta", "municipality", None, MUNICIPALITY)
    store.replace_levels(tx, LEVELS)
    for level, gdf in areas.items():
        store.upsert_areas(tx, level, gdf)
    store.upsert_indicators(tx, catalogue.INDICATORS)
    values = build_values(areas["sozialraum"], rng)
    store.upsert_values(tx, values)
    tx.audit("indicator_value", None, None, {"source_rows": len(values)})
    aggregated = aggregation.refresh_aggregates(tx)
    pois = build_pois(areas["gesamtstadt"].geometry.iloc[0], rng)
    store.insert_pois(tx, pois)
    return {"areas": {k: len(v) for k, v in areas.items()}, "values": len(values), "aggregated": aggregated,
            "pois": len(pois)}


def init_demo(path: str | Path, force: bool = False) -> dict:
    """Build the demo warehouse at ``path`` (replacing it when ``force``); returns counts and the build time."""
    path = Path(path)
    if path.exists():
        if not force:
            return {"skipped": True, "path": str(path)}
        path.unlink()
        Path(str(path) + ".wal").unlink(missing_ok=True)
    started = time.perf_counter()
    with Warehouse(path) as wh:
        result = wh.write(system(), "init-demo", [Resource("level", "demo")], populate)
        wh.cursor().execute("CHECKPOINT")
    result.update(seconds=round(time.perf_counter() - started, 2), path=str(path),
                  bytes=path.stat().st_size)
    return result
