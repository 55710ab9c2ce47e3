"""Sozialraum-Atlas domain: warehouse, queries, privacy, classification, import, export (no streamlit)."""
