"""Analyses whose results are derived indicators (no streamlit here)."""
