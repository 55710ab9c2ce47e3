"""Importing areas, indicator values and POIs from the files statistics offices hand over.

Every import reads and checks everything first and returns an :class:`ImportReport`; with ``dry_run=False``
it then writes all of it in one audited transaction, or nothing.
"""
from .areas import import_areas, set_uninhabited
from .pois import import_pois
from .report import ImportReport
from .values import import_values

__all__ = ["ImportReport", "import_areas", "import_pois", "import_values", "set_uninhabited"]
