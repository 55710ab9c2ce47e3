"""Shared fixtures: one demo warehouse per test session, copied where a test writes."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from keck_data.demo import init_demo
from keck_data.warehouse import Warehouse

pytest_plugins = ["tests.app_harness", "tests.browser_support"]  # AppTest and browser fixtures

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data" / "berlin-lor"


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "keck.duckdb"
    init_demo(path)
    return path


@pytest.fixture()
def demo_copy(demo_file, tmp_path) -> Path:
    """A private copy of the demo warehouse for tests that write."""
    path = tmp_path / "keck.duckdb"
    shutil.copy(demo_file, path)
    return path


@pytest.fixture()
def wh(demo_copy):
    with Warehouse(demo_copy) as w:
        yield w


@pytest.fixture(scope="session")
def ro_wh(demo_file):
    w = Warehouse(demo_file, read_only=True)
    yield w
    w.close()


def require_shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"Berlin test data not found at {SHARED_DATA} (../shared/data is only on developer machines)")
    return SHARED_DATA
