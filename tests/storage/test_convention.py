"""Every storage module follows one unit-of-work convention.

The caller opens the transaction (`Database.transaction()` to write, which on
SQLite takes the write lock up front with BEGIN IMMEDIATE, or
`Database.read()`), and passes its connection as the first argument of each
storage function; no storage module opens a transaction of its own, so one
request's reads and writes happen in the transactions its service chose.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil

import storage

# Modules that are not table access: the engine and transactions themselves, the
# change hub (its own LISTEN connection, outside any transaction), migrations, id and
# type helpers.
NOT_TABLE_ACCESS = {
    "storage.database",
    "storage.changes",
    "storage.migrate",
    "storage.ids",
    "storage.types",
}


def storage_modules() -> list[str]:
    return sorted(
        f"storage.{info.name}"
        for info in pkgutil.iter_modules(storage.__path__)
        if not info.ispkg and f"storage.{info.name}" not in NOT_TABLE_ACCESS
    )


def test_storage_functions_take_the_callers_connection_first() -> None:
    offenders = []
    for name in storage_modules():
        module = importlib.import_module(name)
        for function_name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != name or function_name.startswith("_"):
                continue
            if not (inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)):
                continue
            first = next(iter(inspect.signature(function).parameters.values()), None)
            if first is None or first.name != "conn" or first.annotation != "AsyncConnection":
                offenders.append(f"{name}.{function_name}")
    assert offenders == []


# (a savepoint, `conn.begin_nested()`, stays inside the caller's transaction)
OPENERS = {"transaction", "read", "begin", "connect"}


def test_no_storage_module_opens_its_own_transaction() -> None:
    for name in storage_modules():
        tree = ast.parse(inspect.getsource(importlib.import_module(name)))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "storage.database", name
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in OPENERS, f"{name}: .{node.func.attr}()"
