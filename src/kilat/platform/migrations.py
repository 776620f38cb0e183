"""Helpers for the services' Alembic environments and migration steps.

Alembic is imported only where a migration really runs: a restart at the head revision never
loads it (``script_heads`` reads the version files' identifiers without importing them).
"""

from __future__ import annotations

import ast
from pathlib import Path


def run_env(target_metadata) -> None:
    """Body of every service's ``env.py``: migrate on the connection ``db.migrate`` hands over."""
    from alembic import context

    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def is_postgres() -> bool:
    from alembic import op

    return op.get_bind().dialect.name == "postgresql"


def script_heads(migrations_dir: Path) -> frozenset[str] | None:
    """The head revisions of a service's ``versions`` folder, or None when a version file does
    not state its identifiers as plain literals (the caller then lets Alembic decide)."""
    parents: dict[str, tuple[str, ...]] = {}
    for path in (migrations_dir / "versions").glob("*.py"):
        identifiers = _revision_identifiers(path)
        if identifiers is None:
            return None
        revision, down_revisions = identifiers
        parents[revision] = down_revisions
    referenced = {parent for down in parents.values() for parent in down}
    return frozenset(parents.keys() - referenced) or None


def _revision_identifiers(path: Path) -> tuple[str, tuple[str, ...]] | None:
    """``revision`` and ``down_revision`` of one version file, read from its syntax tree."""
    values: dict[str, object] = {}
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return None
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 \
            else node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision") \
                and node.value is not None:
            try:
                values[target.id] = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError):
                return None
    revision, down = values.get("revision"), values.get("down_revision", ...)
    if not isinstance(revision, str) or down is ...:
        return None
    down = () if down is None else (down,) if isinstance(down, str) else down
    if not isinstance(down, tuple | list) or not all(isinstance(d, str) for d in down):
        return None
    return revision, tuple(down)
