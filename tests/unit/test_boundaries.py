"""The import-boundary check (``scripts/boundaries.py``): the tree passes it, and it follows imports
through the project's own modules, so that a front door reaching the database indirectly is caught."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _boundaries() -> ModuleType:
    spec = importlib.util.spec_from_file_location("boundaries", ROOT / "scripts" / "boundaries.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tree_respects_the_boundaries() -> None:
    assert _boundaries().violations() == []


def test_an_import_through_a_project_module_is_followed(tmp_path: Path) -> None:
    (tmp_path / "compat_gateway").mkdir()
    (tmp_path / "gaia_services" / "runtime").mkdir(parents=True)
    door = tmp_path / "compat_gateway" / "door.py"
    door.write_text("from gaia_services.runtime import helper\n")
    (tmp_path / "gaia_services" / "runtime" / "helper.py").write_text("import asyncpg\n")
    found = dict(_boundaries().reachable(door, root=tmp_path))
    assert found["asyncpg"] == ("gaia_services.runtime.helper",)
    assert found["gaia_services.runtime.helper"] == ()
