"""The analysis layer (DESIGN.md "The analysis layer"): one module per analysis, no streamlit.

Results with a value per area and year are saved as derived indicators through :mod:`.derived`; a method named
``m`` lives in ``keck_data.analysis.m`` and provides ``recompute(atlas, derivation)`` (see :mod:`.derived`).
This package imports nothing on its own, so low layers (store, editing) can use :mod:`.derived` without cycles.
"""
