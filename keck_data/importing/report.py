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
        lines = [f"{state}: {self.source}",
                 f"Zeilen gelesen: {self.rows_read}, zugeordnet: {self.matched}, nicht zugeordnet: {len(self.unmatched)}",
                 f"Neu: {self.new}, geändert: {self.changed}, unverändert: {self.unchanged}"]
        for row in self.unmatched[:20]:
            lines.append(f"  nicht zugeordnet – Zeile {row['row']}: {row['reason']}")
        if len(self.unmatched) > 20:
            lines.append(f"  … und {len(self.unmatched) - 20} weitere")
        lines += [f"Hinweis: {w}" for w in self.warnings]
        return "\n".join(lines)

    def unmatched_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.unmatched, columns=["row", "key", "reason"]).rename(
            columns={"row": "Zeile", "key": "Schlüssel", "reason": "Grund"})

    def as_dict(self) -> dict:
        return {"kind": self.kind, "source": self.source, "rows_read": self.rows_read, "matched": self.matched,
                "unmatched": len(self.unmatched), "new": self.new, "changed": self.changed,
                "unchanged": self.unchanged, "warnings": self.warnings, "committed": self.committed,
                **{k: v for k, v in self.details.items() if isinstance(v, (int, float, str, list, dict))}}
