"""PostgreSQL only: the streams' default and first partitions; row-level security on customers

Customers are readable row by row only by their owner (``SET kilat.user_id``) or a session of the
``kilat_parcels_support`` role; the service's own role owns the table and is not bound by it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from datetime import UTC, datetime

from alembic import op

from kilat.platform.migrations import is_postgres
from kilat.services.parcels.partitions import create_default_partitions, ensure_partitions

revision = "0003"
down_revision = "0002"

SUPPORT_ROLE = "kilat_parcels_support"


def upgrade() -> None:
    if not is_postgres():
        return
    bind = op.get_bind()
    create_default_partitions(bind)
    ensure_partitions(bind, datetime.now(UTC).date(), 3)
    op.execute(f"""
        DO $$ BEGIN
            CREATE ROLE {SUPPORT_ROLE} NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$""")
    op.execute("ALTER TABLE customers ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY customers_owner ON customers FOR ALL "
               "USING (user_id::text = current_setting('kilat.user_id', true))")
    op.execute(f"CREATE POLICY customers_support ON customers FOR ALL TO {SUPPORT_ROLE} "
               "USING (true)")
    op.execute(f"GRANT SELECT, UPDATE ON customers TO {SUPPORT_ROLE}")


def downgrade() -> None:
    if not is_postgres():
        return
    op.execute("DROP POLICY IF EXISTS customers_support ON customers")
    op.execute("DROP POLICY IF EXISTS customers_owner ON customers")
    op.execute("ALTER TABLE customers DISABLE ROW LEVEL SECURITY")
    op.execute(f"REVOKE ALL ON customers FROM {SUPPORT_ROLE}")
