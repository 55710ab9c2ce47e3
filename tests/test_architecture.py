"""DESIGN.md rule 1: the domain never imports streamlit (checked in a fresh interpreter)."""
import pkgutil
import subprocess
import sys

import keck_data
from tests.conftest import ROOT


def test_domain_does_not_import_streamlit():
    modules = [m.name for m in pkgutil.walk_packages(keck_data.__path__, "keck_data.")
               if not m.name.startswith("keck_data.ui") and m.name != "keck_data.__main__"]
    assert "keck_data.queries" in modules and "keck_data.privacy" in modules
    code = ("import importlib, sys\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "bad = sorted(m for m in sys.modules if m == 'streamlit' or m.startswith('streamlit.'))\n"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"streamlit imported by the domain: {result.stdout} {result.stderr}"


def test_pages_contain_no_sql():
    pages = list((ROOT / "pages").rglob("*.py"))
    assert len(pages) >= 13
    for page in pages:
        text = page.read_text(encoding="utf-8").upper()
        for word in ("SELECT ", "INSERT ", "UPDATE ", "DELETE "):
            assert word not in text, f"{page.name} contains SQL ({word.strip()})"
