"""The report every import returns (dry run or commit)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """Default progress callback: ignore."""


@dataclass
class ImportReport:
    """What an import read, matched, will change (or changed), and what it warns about."""

    kind: str
    source: str
    rows_read: int = 0
    matched: int = 0
    unmatched: list[dict] = field(default_factory=list)
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    committed: bool = False

    def summary(self) -> str:
        """A German one-paragraph summary for the CLI and the wizard."""
        state = "Importiert" if self.committed else "Probelauf (nichts gespeichert)"
        lines = [f"{state}: {self.source}", self._counts(),
                 f"Neu: {self.new}, geändert: {self.changed}, unverändert: {self.unchanged}"]
        lines += [f"Erkannt: {layout}" for layout in self.details.get("layout", [])]
        lines += [f"Ebenenblock: {block}" for block in self.details.get("level_blocks", [])]
        years = self.details.get("column_years", {})
        for col, key in self.details.get("columns", {}).items():
            year = years.get(col, {})
            when = f" ({year['rule']}: {year['year']})" if year.get("year") else (
                f" ({year['rule']})" if year.get("rule") else "")
            lines.append(f"  Spalte „{col}“ → {key or 'nicht zugeordnet'}{when}")
        for row in self.unmatched[:20]:
            hint = f" (Vorschläge: {', '.join(row['suggestions'])})" if row.get("suggestions") else ""
            lines.append(f"  nicht zugeordnet – Zeile {row['row']}: {row['reason']}{hint}")
        if len(self.unmatched) > 20:
            lines.append(f"  … und {len(self.unmatched) - 20} weitere")
        lines += [f"Hinweis: {w}" for w in self.warnings]
        lines += [f"Ampel geändert – {change}" for change in self.details.get("ziele", [])]
        return "\n".join(lines)

    def _counts(self) -> str:
        """Rows and values each with their own word: "Zeilen gelesen: 722 – einem Gebiet zugeordnet: 700, ohne
        Gebiet: 2, nicht zugeordnet: 20; Werte übernommen: 1.177"."""
        rows = self.details.get("matched_rows")
        if rows is None:  # areas and POIs: one value per row
            return (f"Zeilen gelesen: {self.rows_read}, zugeordnet: {self.matched}, "
                    f"nicht zugeordnet: {len(self.unmatched)}")
        without = len(self.details.get("unassigned_rows", []))
        return (f"Zeilen gelesen: {self.rows_read} – einem Gebiet zugeordnet: {rows}, ohne Gebiet: {without}, "
                f"nicht zugeordnet: {len(self.unmatched)}; Werte übernommen: {self.matched}")

    def unmatched_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.unmatched, columns=["row", "key", "name", "reason", "suggestions"])
        frame["suggestions"] = frame["suggestions"].map(lambda s: ", ".join(s) if isinstance(s, list) else "")
        return frame.rename(columns={"row": "Zeile", "key": "Schlüssel", "name": "Name", "reason": "Grund",
                                     "suggestions": "Vorschläge"})

    def as_dict(self) -> dict:
        return {"kind": self.kind, "source": self.source, "rows": self.rows_read, "rows_read": self.rows_read,
                "matched": self.matched, "unmatched": len(self.unmatched), "unmatched_rows": self.unmatched, "new": self.new, "changed": self.changed,
                "unchanged": self.unchanged, "warnings": self.warnings, "committed": self.committed,
                **{k: v for k, v in self.details.items() if isinstance(v, (int, float, str, list, dict))}}
