"""Import boundaries, checked by ``scripts/check``.

- A service package (``gaia_services.auth|chat|asset``) never imports another service's modules: services
  talk over gRPC.
- Inside a service, only ``service*.py`` and ``convert*.py`` modules touch generated protobuf code
  (``gaia.*``): domain modules see plain data.
- The shim and the web UI hold no business logic: they never import service packages, the database or
  the server side of the runtime, directly or through any module of the project they import.
- The web UI never imports the shim either: it is an HTTP client like any other.
- The native client (``gaia_client``) stands alone: generated protobuf code only, nothing of the mesh.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("auth", "chat", "asset")


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)  # and each name, which may be a submodule (from a.b import c)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def violations() -> list[str]:
    found: list[str] = []
    for path in sorted(ROOT.glob("gaia_services/**/*.py")):
        rel = path.relative_to(ROOT)
        parts = rel.parts
        owner = parts[1] if len(parts) > 2 and parts[1] in SERVICES else None
        for name in imports(path):
            for other in SERVICES:
                if owner and other != owner and name.startswith(f"gaia_services.{other}"):
                    found.append(f"{rel}: imports {name} (services talk over gRPC)")
            if owner and name.startswith("gaia.") and not path.name.startswith(("service", "convert")):
                found.append(f"{rel}: domain module imports generated code {name}")
    for package, banned in (
        (
            "compat_gateway",
            (
                "gaia_services.auth",
                "gaia_services.chat",
                "gaia_services.asset",
                "gaia_services.db",
                "gaia_services.runtime.server",
                "gaia_services.runtime.interceptors",
                "asyncpg",
            ),
        ),
        ("gaia_client", ("gaia_services", "compat_gateway", "web", "asyncpg")),
        (
            "web",
            (
                "gaia_services.auth",
                "gaia_services.chat",
                "gaia_services.asset",
                "gaia_services.db",
                "gaia_services.runtime.server",
                "gaia_services.runtime.interceptors",
                "compat_gateway",
                "asyncpg",
                "gaia.",
            ),
        ),
    ):
        for path in sorted(ROOT.glob(f"{package}/**/*.py")):
            for name, via in reachable(path):
                if name.startswith(banned):
                    chain = "" if not via else " (via " + " -> ".join(via) + ")"
                    found.append(f"{path.relative_to(ROOT)}: imports {name}{chain}")
    return found


def _module_path(name: str, root: Path) -> Path | None:
    """The file of one of the project's own modules (``gaia_services.x.y``), or None for any other."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def reachable(path: Path, root: Path = ROOT) -> list[tuple[str, tuple[str, ...]]]:
    """Every module ``path`` imports, directly or through the project's own modules it imports, each with
    the chain of project modules it is reached through (empty for a direct import)."""
    seen: set[str] = set()
    out: list[tuple[str, tuple[str, ...]]] = []
    todo: list[tuple[Path, tuple[str, ...]]] = [(path, ())]
    while todo:
        current, via = todo.pop()
        for name in imports(current):
            if name in seen:
                continue
            seen.add(name)
            out.append((name, via))
            inner = _module_path(name, root)
            if inner is not None and name.startswith(("gaia_services", "compat_gateway", "web")):
                todo.append((inner, (*via, name)))
    return out


def main() -> int:
    found = violations()
    for line in found:
        print(line)
    print(f"import boundaries: {len(found)} violation(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
