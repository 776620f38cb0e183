"""notification: notifications to an address with no user (a first sign-in code), and the
development sink's messages

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from kilat.platform.migrations import is_postgres
from kilat.platform.models import UTCDateTime

revision = "0002"
down_revision = "0001"

ADDRESSED = "user_id IS NULL"


def _user_id_nullable(nullable: bool) -> None:
    sqlite = not is_postgres()
    if sqlite:
        # SQLite rebuilds notifications by dropping it, and the drop would cascade to the
        # deliveries: they step aside meanwhile
        op.execute("CREATE TEMP TABLE kept_deliveries AS SELECT * FROM notification_deliveries")
        op.execute("DELETE FROM notification_deliveries")
    for table in ("notifications", "notification_deliveries"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("user_id", existing_type=sa.Uuid, nullable=nullable)
    if sqlite:
        op.execute("INSERT INTO notification_deliveries SELECT * FROM kept_deliveries")
        op.execute("DROP TABLE kept_deliveries")


def upgrade() -> None:
    _user_id_nullable(True)
    op.create_index("uq_notifications_addressed_fact", "notifications", ["fact_key"], unique=True,
                    sqlite_where=sa.text(ADDRESSED), postgresql_where=sa.text(ADDRESSED))
    op.create_table(
        "sink_messages",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(512), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_sink_messages_recipient_sent", "sink_messages", ["recipient", "sent_at"])
    op.create_index("ix_sink_messages_sent_at", "sink_messages", ["sent_at"])


def downgrade() -> None:
    op.drop_table("sink_messages")
    op.drop_index("uq_notifications_addressed_fact", "notifications")
    op.execute(f"DELETE FROM notifications WHERE {ADDRESSED}")
    _user_id_nullable(False)
