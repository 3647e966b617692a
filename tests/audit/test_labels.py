"""Every action code the code records has a label: the audit log never shows a raw code such
as ``household.publicize`` for want of one.

The codes are read from the source: the first argument of every call to ``record()`` /
``record_many()`` (under whatever name a module imports them), the ``action`` of the demo
data's rows, and the ``"action": "…"`` of rows inserted in bulk.  A code built at run time
(``f"household.{action}"``) is expanded from what it is built of; one this test does not know
how to expand fails, so that it is taught rather than skipped."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator

from heating.audit_viewer.labels import ACTIONS, FIELDS, GROUP_ACTIONS, OBJECT_TYPES, action_choices
from heating.auth.permissions import REVEALABLE
from heating.households import lifecycle

ROOT = Path(__file__).resolve().parents[2] / "heating"
AUDIT_SERVICES = "heating.audit.services"
#: f-strings of action codes and what their placeholder takes
EXPANSIONS = {
    "household.{action}": sorted(t.action for t in lifecycle.TRANSITIONS),
    "household.reveal_{field}": sorted(REVEALABLE),
}


def _pattern(node: ast.JoinedStr) -> str:
    return "".join(part.value if isinstance(part, ast.Constant)
                   else "{" + ast.unparse(part.value) + "}" for part in node.values)


class _Codes:
    def __init__(self, path: Path, tree: ast.Module) -> None:
        self.path = path
        self.tree = tree
        self.found: set[str] = set()
        self.unknown: list[str] = []

    def where(self, node: ast.AST) -> str:
        return f"{self.path.relative_to(ROOT.parent)}:{node.lineno}"

    def resolve(self, node: ast.AST, scope: ast.AST) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.IfExp):
            return self.resolve(node.body, scope) | self.resolve(node.orelse, scope)
        if isinstance(node, ast.JoinedStr):
            pattern = _pattern(node)
            if pattern in EXPANSIONS:
                head, _, tail = pattern.partition("{")
                tail = tail.partition("}")[2]
                return {f"{head}{value}{tail}" for value in EXPANSIONS[pattern]}
        if isinstance(node, ast.Name):  # a local assigned from constants
            values: set[str] = set()
            for assign in ast.walk(scope):
                if (isinstance(assign, ast.Assign) and len(assign.targets) == 1
                        and isinstance(assign.targets[0], ast.Name)
                        and assign.targets[0].id == node.id):
                    values |= self.resolve(assign.value, scope)
            if values:
                return values
        self.unknown.append(f"{self.where(node)}: {ast.unparse(node)}")
        return set()


def _functions(tree: ast.Module) -> Iterator[tuple[ast.AST, ast.Call]]:
    """(enclosing function or module, call) for every call in the module."""
    scopes: list[ast.AST] = [tree] + [n for n in ast.walk(tree)
                                      if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    seen: set[int] = set()
    for scope in reversed(scopes):  # innermost first
        for node in ast.walk(scope):
            if isinstance(node, ast.Call) and id(node) not in seen:
                seen.add(id(node))
                yield scope, node


def recorded_codes() -> tuple[dict[str, str], list[str]]:
    """Action code → first place it is recorded; and the calls whose code is unknown."""
    codes: dict[str, str] = {}
    unknown: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        if "translations" in path.parts or path.parent.name == "audit":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        recorders = {alias.asname or alias.name for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module == AUDIT_SERVICES
                     for alias in node.names}
        found = _Codes(path, tree)
        for scope, call in _functions(tree):
            name = call.func.id if isinstance(call.func, ast.Name) else None
            if name in recorders and call.args:
                for code in found.resolve(call.args[0], scope):
                    codes.setdefault(code, found.where(call))
            elif name == "_audit" and path.name == "demo.py" and len(call.args) >= 3:
                for code in found.resolve(call.args[2], scope):  # (at, actor, action, …)
                    codes.setdefault(code, found.where(call))
            for kw in call.keywords:  # AuditEvent(action="…")
                if kw.arg == "action" and isinstance(call.func, ast.Name) \
                        and call.func.id == "AuditEvent":
                    for code in found.resolve(kw.value, scope):
                        codes.setdefault(code, found.where(call))
        for node in ast.walk(tree):  # {"action": "household.imported", …} of bulk inserts
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if (isinstance(key, ast.Constant) and key.value == "action"
                            and isinstance(value, ast.Constant) and isinstance(value.value, str)
                            and "." in value.value):
                        codes.setdefault(value.value, found.where(node))
        unknown += found.unknown
    return codes, unknown


def test_every_recorded_action_has_a_label():
    codes, unknown = recorded_codes()
    assert unknown == [], "action codes this test cannot expand: add them to EXPANSIONS"
    # the scan itself works: it finds codes of every kind of call
    for code in ("household.publicize", "household.reveal_phone", "user.disabled",
                 "household.imported", "areas.loaded", "usage.imported", "login"):
        assert code in codes, code
    assert len(codes) > 90
    missing = {code: where for code, where in codes.items() if code not in ACTIONS}
    assert missing == {}, "add these codes to heating/audit_viewer/labels.py ACTION_GROUPS"


def test_every_lifecycle_move_has_a_label():
    for t in lifecycle.TRANSITIONS:
        assert f"household.{t.action}" in ACTIONS, t.action


def test_the_table_is_one_table():
    codes = [code for rows in GROUP_ACTIONS.values() for code in rows]
    assert len(codes) == len(set(codes)) == len(ACTIONS)  # each code in one group, once
    choices = action_choices()
    assert sum(len(options) for options in choices.values()) == len(ACTIONS) + len(choices)
    assert {"household", "user", "payout_batch", "notice"} <= set(OBJECT_TYPES)
    assert "state" in FIELDS and "total_fen" in FIELDS
