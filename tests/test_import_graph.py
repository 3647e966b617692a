"""The import graph of ``heating/``, built from the source (no module is imported).

DESIGN.md: arrows point one way, no circular imports, no imports inside functions to dodge them,
``core`` imports no domain. Every ``import``/``from … import`` statement counts, wherever it stands
(top level, inside a function, under ``if TYPE_CHECKING``): a cycle hidden in a function is still a
cycle. The graph has two levels: modules (``heating.payouts.views``) and domains (the packages
directly under ``heating/``: ``heating.payouts``); top-level modules such as ``heating.cli`` are the
wiring and are left out of the domain graph.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "heating"
ROOT = "heating"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The longest known module that ``name`` names or lies in (``a.b.c`` → ``a.b`` if ``c`` is a name)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(mod: str, path: Path, known: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = mod.split(".")
                base = base if is_package else base[:-1]
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # ``from pkg import mod`` imports the submodule; ``from mod import name`` the module.
            subs = [f"{prefix}.{a.name}" for a in node.names]
            names = [n for n in subs if n in known] or [prefix]
        else:
            continue
        for name in names:
            if name == ROOT or name.startswith(ROOT + "."):
                target = _resolve(name, known)
                if target and target != mod:
                    found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {mod: imports_of(mod, path, known) for mod, path in known.items()}


def domain_of(mod: str) -> str | None:
    parts = mod.split(".")
    if len(parts) < 2:
        return None
    pkg = f"{ROOT}.{parts[1]}"
    return pkg if (PACKAGE / parts[1]).is_dir() else None


def domain_graph(g: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for mod, targets in g.items():
        src = domain_of(mod)
        if src is None:
            continue
        out.setdefault(src, set())
        for t in targets:
            dst = domain_of(t)
            if dst and dst != src:
                out[src].add(dst)
    return out


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return sorted(found)


def describe(g: dict[str, set[str]], comp: list[str]) -> str:
    members = set(comp)
    edges = [f"{a} → {b}" for a in comp for b in sorted(g.get(a, ())) if b in members]
    return "; ".join(edges)


def test_the_graph_sees_relative_absolute_and_function_level_imports(tmp_path):
    """The parser itself: a test of the test, so a blind graph cannot pass as an acyclic one."""
    pkg = tmp_path / "heating"
    (pkg / "a").mkdir(parents=True)
    (pkg / "b").mkdir()
    for f in ("__init__.py", "a/__init__.py", "b/__init__.py"):
        (pkg / f).write_text("")
    (pkg / "a" / "x.py").write_text("from . import y\nfrom heating.b.z import thing\n")
    (pkg / "a" / "y.py").write_text("def f():\n    from .x import g\n")
    (pkg / "a" / "w.py").write_text("")
    (pkg / "b" / "z.py").write_text("import heating.a.w as w\n")
    known = {module_name_in(pkg, p): p for p in pkg.rglob("*.py")}
    g = {m: imports_of(m, p, known) for m, p in known.items()}
    assert g["heating.a.x"] == {"heating.a.y", "heating.b.z"}
    assert g["heating.a.y"] == {"heating.a.x"}
    assert cycles(g) == [["heating.a.x", "heating.a.y"]]
    assert cycles(domain_graph_in(pkg, g)) == [["heating.a", "heating.b"]]


def module_name_in(pkg: Path, path: Path) -> str:
    parts = list(path.relative_to(pkg.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def domain_graph_in(pkg: Path, g: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for mod, targets in g.items():
        parts = mod.split(".")
        if len(parts) < 2:
            continue
        src = ".".join(parts[:2])
        out.setdefault(src, set())
        for t in targets:
            dst = ".".join(t.split(".")[:2])
            if t.count(".") >= 1 and dst != src:
                out[src].add(dst)
    return out


def test_no_cycle_between_modules():
    g = graph()
    found = cycles(g)
    assert not found, "import cycles between modules:\n" + "\n".join(describe(g, c) for c in found)


def test_no_cycle_between_domains():
    g = domain_graph(graph())
    found = cycles(g)
    assert not found, "import cycles between domains:\n" + "\n".join(describe(g, c) for c in found)


def test_core_imports_no_domain():
    g = graph()
    bad = sorted(f"{m} → {t}" for m, ts in g.items() if domain_of(m) == "heating.core"
                 for t in ts if domain_of(t) not in (None, "heating.core"))
    assert not bad, "heating/core imports a domain:\n" + "\n".join(bad)


def test_no_private_name_is_imported_across_modules():
    """A name with a leading underscore is its module's own: another module that needs it
    needs a public one (the views once borrowed ``_case`` and ``forbidden`` from each other)."""
    bad = []
    for mod, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith(ROOT)):
                bad += [f"{mod}: {node.module}.{a.name}" for a in node.names
                        if a.name.startswith("_")]
    assert not bad, "private names imported across modules:\n" + "\n".join(bad)
