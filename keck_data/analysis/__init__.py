"""Analyses on top of the read path (domain, no streamlit)."""
