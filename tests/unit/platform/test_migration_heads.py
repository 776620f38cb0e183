"""Reading a service's head revisions from its version files, without Alembic."""

from pathlib import Path

from kilat.platform.migrations import script_heads
from kilat.services.booking import descriptor as booking


def write_versions(root: Path, files: dict[str, str]) -> Path:
    (root / "versions").mkdir()
    for name, body in files.items():
        (root / "versions" / name).write_text(body)
    return root


def test_a_linear_history_has_its_last_revision_as_head(tmp_path):
    root = write_versions(tmp_path, {
        "a.py": 'revision = "0001"\ndown_revision = None\n',
        "b.py": 'revision = "0002"\ndown_revision = "0001"\n',
    })
    assert script_heads(root) == {"0002"}


def test_annotated_identifiers_as_alembic_templates_write_them_are_read(tmp_path):
    root = write_versions(tmp_path, {
        "a.py": 'from typing import Union\nrevision: str = "a1"\n'
                'down_revision: Union[str, None] = None\n',
        "b.py": 'revision: str = "b2"\ndown_revision: Union[str, None] = "a1"\n',
    })
    assert script_heads(root) == {"b2"}


def test_branches_have_two_heads_until_a_merge_revision_joins_them(tmp_path):
    root = write_versions(tmp_path, {
        "a.py": 'revision = "a"\ndown_revision = None\n',
        "b.py": 'revision = "b"\ndown_revision = "a"\n',
        "c.py": 'revision = "c"\ndown_revision = "a"\n',
    })
    assert script_heads(root) == {"b", "c"}
    (root / "versions" / "m.py").write_text('revision = "m"\ndown_revision = ("b", "c")\n')
    assert script_heads(root) == {"m"}


def test_identifiers_that_are_not_literals_leave_the_decision_to_alembic(tmp_path):
    root = write_versions(tmp_path, {
        "a.py": 'revision = "a"\ndown_revision = None\n',
        "b.py": 'import os\nrevision = os.environ["REV"]\ndown_revision = "a"\n',
    })
    assert script_heads(root) is None


def test_a_version_file_without_down_revision_leaves_the_decision_to_alembic(tmp_path):
    root = write_versions(tmp_path, {"a.py": 'revision = "a"\n'})
    assert script_heads(root) is None


def test_the_booking_service_head_is_its_latest_migration():
    assert script_heads(booking.migrations_dir) == {"0002"}
