"""The house's rules, checked on the source: allowed imports between packages, no cycles, no SQL
in the user interfaces, Beijing time and month arithmetic in one place (docs/architecture.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "govmedia"

# Which packages each may import (besides itself). The user interfaces may import anything.
ALLOWED = {
    "core": set(),
    "store": {"core"},
    "export": {"core"},
    "methodology": {"core", "store"},
    "ingest": {"core", "store"},
    "scoring": {"core", "store", "methodology"},
    "oversight": {"core", "store"},
    "ranking": {"core", "store", "methodology", "scoring"},
    "reports": {"core", "store", "methodology", "scoring", "ranking", "oversight", "export"},
}
INTERFACES = {"web", "cli", "demo"}


def _package(path: Path) -> str:
    relative = path.relative_to(SRC)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _imports(path: Path) -> set[str]:
    """govmedia packages imported anywhere in the file (also inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "govmedia":
                names = [f"govmedia.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "govmedia" and len(parts) > 1:
                found.add(parts[1])
    return found


def _graph() -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> files that import it."""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in SRC.rglob("*.py"):
        package = _package(path)
        if package == "__init__":
            continue
        for target in _imports(path) - {package}:
            graph.setdefault(package, {}).setdefault(target, []).append(str(path.relative_to(SRC)))
    return graph


def test_every_package_imports_only_what_it_may():
    wrong = []
    for package, targets in _graph().items():
        if package in INTERFACES:
            continue
        assert package in ALLOWED, f"new package {package}: add it to ALLOWED and to docs/architecture.md"
        for target, files in targets.items():
            if target not in ALLOWED[package]:
                wrong.append(f"{package} -> {target} ({', '.join(sorted(files))})")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_only_the_interfaces_import_ingest():
    importers = {p for p, targets in _graph().items() if "ingest" in targets}
    assert importers <= INTERFACES, importers


def test_no_import_cycle_between_packages():
    graph = {p: set(t) & set(ALLOWED) for p, t in _graph().items() if p not in INTERFACES}

    def visit(node, trail):
        for nxt in graph.get(node, ()):
            assert nxt not in trail, f"import cycle: {' -> '.join([*trail, nxt])}"
            visit(nxt, [*trail, nxt])

    for start in graph:
        visit(start, [start])


def test_the_layering_rules_catch_a_violation(tmp_path):
    # The checker itself: a lower package importing ingest is caught.
    sample = tmp_path / "bad.py"
    sample.write_text("def f():\n    from govmedia.ingest.tabular import read_table\n", encoding="utf-8")
    assert _imports(sample) == {"ingest"}


SQL = re.compile(r"\b(SELECT\s+.+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b|\.execute\(",
                 re.IGNORECASE | re.DOTALL)


def _interface_files():
    yield SRC / "cli.py"
    yield from (SRC / "web").rglob("*.py")


def test_no_sql_in_the_user_interfaces():
    offenders = []
    for path in _interface_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr in ("execute", "executemany", "sql"):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} .{node.attr}")
    assert not offenders, "SQL in the user interfaces: " + ", ".join(offenders)


def test_beijing_offset_and_month_slicing_only_in_core_time():
    offset = re.compile(r"hours\s*=\s*8\b|INTERVAL\s+8\s+HOUR|\+08:?00|utc_offset_hours\s*[=:]|UTC\+8\s*\d|"
                        r"timedelta\(hours=8\)")
    slicing = re.compile(r"\[\s*:\s*4\s*\]|\[\s*5\s*:\s*\]|\[\s*5\s*:\s*7\s*\]")
    offenders = []
    for path in SRC.rglob("*.py"):
        if path == SRC / "core" / "time.py":
            continue
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            code = line.split("#", 1)[0]
            if offset.search(code):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
            if slicing.search(code) and re.search(r"month|start|end|period|year", code):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert not offenders, "time arithmetic outside core/time.py:\n" + "\n".join(offenders)
