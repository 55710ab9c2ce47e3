"""Musterstadt's Themenfelder and indicator catalogue (metadata only; values come from demo.py)."""
from __future__ import annotations

# Themenfelder and POI categories are seeded by schema migration 2; indicators refer to the topic keys.

SOURCE_EWR = "Einwohnermelderegister Musterstadt (synthetisch)"
SOURCE_BA = "Statistik der Bundesagentur für Arbeit (synthetisch)"
SOURCE_JA = "Jugendamt Musterstadt, Fachverfahren (synthetisch)"
SOURCE_SEU = "Schuleingangsuntersuchung, Gesundheitsamt (synthetisch)"
SOURCE_SCHULE = "Schulstatistik des Landes (synthetisch)"
SOURCE_WAHL = "Wahlamt Musterstadt, Kommunalwahl (synthetisch)"
SOURCE_BAU = "Bauverwaltung / Gutachterausschuss (synthetisch)"
SOURCE_KITA = "Kita-Bedarfsplanung Musterstadt (synthetisch)"


def _c(key, name, topic, source, definition, polarity="neutral", unit="Personen", released=True, parts=None):
    """A count indicator (summed to coarser levels); ``parts``: it is the sum of these counts ("a + b")."""
    return dict(key=key, name=name, topic=topic, unit=unit, kind="count", aggregation="sum", polarity=polarity,
                decimals=0, source=source, definition=definition,
                calculation=f"Anzahl zum Stichtag (= {parts})" if parts else "Anzahl zum Stichtag",
                released=released, parts=parts)


def _r(key, name, topic, num, den, source, definition, polarity, scale=100.0, unit="%", released=True):
    """A rate recomputed as Σ numerator / Σ denominator × scale at every level.

    Percentages are shares (the numerator counts a part of the denominator); per-mille rates and ratios such as
    places per child are not.
    """
    per = "je 100" if scale == 100 else f"je {int(scale):,}".replace(",", ".")
    return dict(key=key, name=name, topic=topic, unit=unit, kind="rate", aggregation="ratio", numerator=num,
                denominator=den, scale=scale, polarity=polarity, decimals=1, source=source, definition=definition,
                calculation=f"{num} / {den} × {int(scale)} ({per})", released=released, share=unit == "%")


def _m(key, name, topic, weight, unit, source, definition, polarity="neutral", released=True):
    """A mean, weighted by another count indicator when aggregated."""
    return dict(key=key, name=name, topic=topic, unit=unit, kind="mean", aggregation="weighted_mean",
                weight=weight, polarity=polarity, decimals=1, source=source, definition=definition,
                calculation=f"Mittelwert; in gröbere Ebenen gewichtet mit {weight}", released=released)


INDICATORS: list[dict] = [
    # Demografie
    _c("ew_gesamt", "Einwohnerinnen und Einwohner", "demografie", SOURCE_EWR, "Personen mit Hauptwohnsitz.",
       parts="ew_u15 + ew_15_65 + ew_65plus"),
    _c("ew_u3", "Kinder unter 3 Jahren", "demografie", SOURCE_EWR, "Kinder im Alter von 0 bis unter 3 Jahren."),
    _c("ew_3_6", "Kinder von 3 bis unter 6 Jahren", "demografie", SOURCE_EWR, "Kinder im Alter von 3 bis unter 6 Jahren."),
    _c("ew_u6", "Kinder unter 6 Jahren", "demografie", SOURCE_EWR, "Kinder im Alter von 0 bis unter 6 Jahren.",
       parts="ew_u3 + ew_3_6"),
    _c("ew_6_15", "Kinder von 6 bis unter 15 Jahren", "demografie", SOURCE_EWR, "Kinder im Alter von 6 bis unter 15 Jahren."),
    _c("ew_u15", "Kinder unter 15 Jahren", "demografie", SOURCE_EWR, "Kinder im Alter von 0 bis unter 15 Jahren.",
       parts="ew_u6 + ew_6_15"),
    _c("ew_u18", "Minderjährige", "demografie", SOURCE_EWR, "Personen unter 18 Jahren."),
    _c("ew_15_65", "Einwohner von 15 bis unter 65 Jahren", "demografie", SOURCE_EWR, "Personen im erwerbsfähigen Alter."),
    _c("ew_65plus", "Einwohner ab 65 Jahren", "demografie", SOURCE_EWR, "Personen ab 65 Jahren."),
    _c("geburten", "Geburten", "demografie", SOURCE_EWR, "Lebendgeborene im Kalenderjahr."),
    _r("anteil_u18", "Anteil Minderjähriger", "demografie", "ew_u18", "ew_gesamt", SOURCE_EWR,
       "Anteil der unter 18-Jährigen an allen Einwohnern.", "neutral"),
    _r("anteil_65plus", "Anteil ab 65-Jähriger", "demografie", "ew_65plus", "ew_gesamt", SOURCE_EWR,
       "Anteil der ab 65-Jährigen an allen Einwohnern.", "neutral"),
    _r("geburtenrate", "Geburten je 1.000 Einwohner", "demografie", "geburten", "ew_gesamt", SOURCE_EWR,
       "Lebendgeborene je 1.000 Einwohner.", "neutral", scale=1000.0, unit="‰"),
    _m("durchschnittsalter", "Durchschnittsalter", "demografie", "ew_gesamt", "Jahre", SOURCE_EWR,
       "Arithmetisches Mittel des Alters aller Einwohner."),
    # Soziale Lage
    _c("hh_kinder", "Haushalte mit Kindern", "soziale_lage", SOURCE_EWR,
       "Haushalte mit mindestens einem minderjährigen Kind (Haushaltegenerierung).", unit="Haushalte"),
    _c("hh_alleinerziehend", "Haushalte von Alleinerziehenden", "soziale_lage", SOURCE_EWR,
       "Haushalte mit einem Elternteil und mindestens einem minderjährigen Kind.", unit="Haushalte"),
    _r("anteil_alleinerziehend", "Anteil Alleinerziehender", "soziale_lage", "hh_alleinerziehend", "hh_kinder",
       SOURCE_EWR, "Anteil der Alleinerziehenden-Haushalte an allen Haushalten mit Kindern.", "high_bad"),
    _c("sgb2_u15", "Kinder unter 15 Jahren im SGB-II-Bezug", "soziale_lage", SOURCE_BA,
       "Nicht erwerbsfähige Leistungsberechtigte unter 15 Jahren in Bedarfsgemeinschaften nach SGB II.",
       polarity="high_bad"),
    _r("sgb2_quote_u15", "SGB-II-Quote der unter 15-Jährigen", "soziale_lage", "sgb2_u15", "ew_u15", SOURCE_BA,
       "Anteil der Kinder unter 15 Jahren, die in Bedarfsgemeinschaften nach SGB II leben "
       "(Kinderarmut im engeren Sinne).", "high_bad"),
    _c("arbeitslose", "Arbeitslose", "soziale_lage", SOURCE_BA, "Arbeitslose nach SGB II und SGB III.",
       polarity="high_bad"),
    _r("arbeitslosenanteil", "Arbeitslosenanteil", "soziale_lage", "arbeitslose", "ew_15_65", SOURCE_BA,
       "Arbeitslose je 100 Einwohner von 15 bis unter 65 Jahren.", "high_bad"),
    _c("kinder_migration", "Minderjährige mit Migrationshintergrund", "soziale_lage", SOURCE_EWR,
       "Minderjährige mit eigener oder familiärer Zuwanderungsgeschichte (Migrationshintergrund-Ableitung)."),
    _r("anteil_kinder_migration", "Anteil Minderjähriger mit Migrationshintergrund", "soziale_lage",
       "kinder_migration", "ew_u18", SOURCE_EWR, "Anteil der Minderjährigen mit Migrationshintergrund.", "neutral"),
    dict(key="sozialindex", name="Sozialindex", topic="soziale_lage", unit="Indexpunkte", kind="index",
         aggregation="none", polarity="high_bad", decimals=1, source="Sozialplanung Musterstadt (synthetisch)",
         definition="Zusammengesetzter Index der sozialen Belastung (SGB-II-Quote U15, Arbeitslosenanteil, "
                    "Anteil Alleinerziehender); Mittelwert 100, Standardabweichung 10 über alle Sozialräume.",
         calculation="100 + 10 × Mittelwert der z-standardisierten Teilindikatoren",
         interpretation="Werte über 110 weisen auf eine deutlich überdurchschnittliche Belastung hin. "
                        "Der Index ist nicht auf Stadtbezirke aggregierbar.", released=False),
    # Kinderschutz und Hilfen zur Erziehung
    _c("inobhutnahmen", "Inobhutnahmen", "hilfen", SOURCE_JA, "Vorläufige Schutzmaßnahmen nach § 42 SGB VIII.",
       polarity="high_bad", unit="Fälle", released=False),
    _c("hze_faelle", "Hilfen zur Erziehung", "hilfen", SOURCE_JA,
       "Laufende und beendete Hilfen nach §§ 27–35 SGB VIII im Jahr.", polarity="high_bad", unit="Fälle"),
    _r("hze_quote", "Hilfen zur Erziehung je 1.000 Minderjährige", "hilfen", "hze_faelle", "ew_u18", SOURCE_JA,
       "Hilfen zur Erziehung je 1.000 Minderjährige.", "high_bad", scale=1000.0, unit="‰"),
    # Bildung
    _c("schulanfaenger", "Schulanfängerinnen und Schulanfänger", "bildung", SOURCE_SEU,
       "Untersuchte Kinder der Schuleingangsuntersuchung."),
    _c("sprachfoerderbedarf", "Schulanfänger mit Sprachförderbedarf", "bildung", SOURCE_SEU,
       "Kinder mit festgestelltem Sprachförderbedarf in der Schuleingangsuntersuchung.", polarity="high_bad"),
    _r("quote_sprachfoerderbedarf", "Anteil Schulanfänger mit Sprachförderbedarf", "bildung",
       "sprachfoerderbedarf", "schulanfaenger", SOURCE_SEU,
       "Anteil der Schulanfänger mit Sprachförderbedarf. 2020 und 2021 fand pandemiebedingt kein "
       "Sprachscreening statt.", "high_bad"),
    _c("schulabgaenger", "Schulabgängerinnen und Schulabgänger", "bildung", SOURCE_SCHULE,
       "Abgänger allgemeinbildender Schulen nach Wohnort."),
    _c("ohne_abschluss", "Schulabgänger ohne Abschluss", "bildung", SOURCE_SCHULE,
       "Abgänger ohne mindestens Hauptschulabschluss nach Wohnort.", polarity="high_bad"),
    _r("quote_ohne_abschluss", "Anteil Schulabgänger ohne Abschluss", "bildung", "ohne_abschluss",
       "schulabgaenger", SOURCE_SCHULE, "Anteil der Schulabgänger ohne Abschluss.", "high_bad"),
    _c("uebergaenge_gesamt", "Übergänge nach Klasse 4", "bildung", SOURCE_SCHULE,
       "Grundschüler der Klasse 4, die auf eine weiterführende Schule wechseln."),
    _c("uebergaenge_gym", "Übergänge aufs Gymnasium", "bildung", SOURCE_SCHULE,
       "Übergänge von Klasse 4 auf ein Gymnasium."),
    _r("gymnasialquote", "Übergangsquote Gymnasium", "bildung", "uebergaenge_gym", "uebergaenge_gesamt",
       SOURCE_SCHULE, "Anteil der Übergänge aufs Gymnasium an allen Übergängen nach Klasse 4.", "high_good"),
    # Gesundheit
    _c("uebergewicht", "Schulanfänger mit Übergewicht", "gesundheit", SOURCE_SEU,
       "Kinder mit BMI über der 90. Perzentile (Kromeyer-Hauschild).", polarity="high_bad"),
    _r("quote_uebergewicht", "Anteil übergewichtiger Schulanfänger", "gesundheit", "uebergewicht",
       "schulanfaenger", SOURCE_SEU, "Anteil der Schulanfänger mit Übergewicht oder Adipositas.", "high_bad"),
    _c("impfluecke", "Schulanfänger mit unvollständigem Impfschutz", "gesundheit", SOURCE_SEU,
       "Kinder ohne vollständige Masern-Grundimmunisierung laut Impfpass.", polarity="high_bad"),
    _r("quote_impfluecke", "Anteil Schulanfänger mit Impflücke", "gesundheit", "impfluecke", "schulanfaenger",
       SOURCE_SEU, "Anteil der Schulanfänger ohne vollständigen Masern-Impfschutz.", "high_bad"),
    _c("u9_teilgenommen", "Schulanfänger mit U9-Untersuchung", "gesundheit", SOURCE_SEU,
       "Kinder mit dokumentierter Früherkennungsuntersuchung U9.", polarity="high_good"),
    _r("quote_u9", "Teilnahme an der U9", "gesundheit", "u9_teilgenommen", "schulanfaenger", SOURCE_SEU,
       "Anteil der Schulanfänger mit dokumentierter U9.", "high_good"),
    # Wohnen
    _c("wohnungen", "Wohnungen", "wohnen", SOURCE_BAU, "Wohnungen in Wohn- und Nichtwohngebäuden.",
       unit="Wohnungen"),
    _c("sozialwohnungen", "Geförderte Wohnungen", "wohnen", SOURCE_BAU, "Mietpreis- und belegungsgebundene Wohnungen.",
       unit="Wohnungen"),
    _r("anteil_sozialwohnungen", "Anteil geförderter Wohnungen", "wohnen", "sozialwohnungen", "wohnungen",
       SOURCE_BAU, "Anteil der geförderten Wohnungen am Wohnungsbestand.", "neutral"),
    _m("wohnflaeche_pp", "Wohnfläche je Einwohner", "wohnen", "ew_gesamt", "m²", SOURCE_BAU,
       "Wohnfläche in m² je Einwohner.", polarity="high_good"),
    _m("angebotsmiete", "Angebotsmiete", "wohnen", "wohnungen", "€/m²", SOURCE_BAU,
       "Median der Netto-Kaltmiete in Wohnungsangeboten, € je m².", polarity="high_bad"),
    # Kinderbetreuung und Infrastruktur
    _c("kita_plaetze", "Kita-Plätze", "kinderbetreuung", SOURCE_KITA, "Genehmigte Plätze in Kindertageseinrichtungen.",
       polarity="high_good", unit="Plätze"),
    _c("kita_u3", "Betreute Kinder unter 3 Jahren", "kinderbetreuung", SOURCE_KITA,
       "Kinder unter 3 Jahren in Kita oder Kindertagespflege.", polarity="high_good"),
    _r("betreuungsquote_u3", "Betreuungsquote unter 3 Jahren", "kinderbetreuung", "kita_u3", "ew_u3", SOURCE_KITA,
       "Anteil der betreuten Kinder an allen Kindern unter 3 Jahren.", "high_good"),
    _c("kita_3_6", "Betreute Kinder von 3 bis unter 6 Jahren", "kinderbetreuung", SOURCE_KITA,
       "Kinder von 3 bis unter 6 Jahren in Kindertageseinrichtungen.", polarity="high_good"),
    _r("betreuungsquote_3_6", "Betreuungsquote 3 bis unter 6 Jahre", "kinderbetreuung", "kita_3_6", "ew_3_6",
       SOURCE_KITA, "Anteil der betreuten Kinder an allen Kindern von 3 bis unter 6 Jahren.", "high_good"),
    _r("versorgungsquote_kita", "Kita-Plätze je 100 Kinder unter 6", "kinderbetreuung", "kita_plaetze", "ew_u6",
       SOURCE_KITA, "Genehmigte Kita-Plätze je 100 Kinder unter 6 Jahren.", "high_good", unit="Plätze je 100"),
    _m("spielflaeche_je_kind", "Spielplatzfläche je Kind", "kinderbetreuung", "ew_u18", "m²",
       "Grünflächenamt Musterstadt (synthetisch)", "Öffentliche Spielplatzfläche in m² je Minderjährigem.",
       polarity="high_good"),
    # Beteiligung
    _c("wahlberechtigte", "Wahlberechtigte", "beteiligung", SOURCE_WAHL, "Wahlberechtigte der Kommunalwahl."),
    _c("waehler", "Wählerinnen und Wähler", "beteiligung", SOURCE_WAHL, "Abgegebene Stimmen der Kommunalwahl."),
    _r("wahlbeteiligung", "Wahlbeteiligung", "beteiligung", "waehler", "wahlberechtigte", SOURCE_WAHL,
       "Anteil der Wähler an den Wahlberechtigten (fortgeschrieben zwischen den Wahlen).", "high_good"),
    _c("vereinsmitglieder_u18", "Minderjährige in Sportvereinen", "beteiligung",
       "Stadtsportbund Musterstadt (synthetisch)", "Minderjährige Mitglieder in Sportvereinen nach Wohnort.",
       polarity="high_good"),
    _r("vereinsquote_u18", "Anteil Minderjähriger in Sportvereinen", "beteiligung", "vereinsmitglieder_u18",
       "ew_u18", "Stadtsportbund Musterstadt (synthetisch)", "Anteil der Minderjährigen mit Sportvereinsmitgliedschaft.",
       "high_good"),
]

for _i, _ind in enumerate(INDICATORS):
    _ind.setdefault("reference_date", "31.12. des Jahres")
    _ind.setdefault("data_owner", "Stadt Musterstadt, Sozialplanung")
    _ind.setdefault("update_cycle", "jährlich")
    _ind["ordering"] = _i
