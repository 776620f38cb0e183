"""identity: users, refresh tokens, password resets, runner applications, referrals, event tables

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from kilat.platform.events.tables import create_event_tables, drop_event_tables
from kilat.platform.models import UTCDateTime

revision = "0001"
down_revision = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def _user_fk(column: str, table: str, **kwargs) -> sa.Column:
    return sa.Column(column, sa.Uuid,
                     sa.ForeignKey("users.id", name=f"fk_{table}_{column}_users"),
                     nullable=False, **kwargs)


def upgrade() -> None:
    create_event_tables(op.get_bind())
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("full_name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("is_verified", sa.Boolean, nullable=False),
        sa.Column("is_banned", sa.Boolean, nullable=False),
        sa.Column("banned_at", UTCDateTime(), nullable=True),
        sa.Column("avatar_url", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.CheckConstraint("role IN ('owner', 'runner', 'shop', 'admin')", name="ck_users_role"),
    )
    op.create_index("ix_users_created_at", "users", ["created_at"])
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Uuid, primary_key=True),
        _user_fk("user_id", "refresh_tokens"),
        sa.Column("family_id", sa.Uuid, nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"])
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Uuid, primary_key=True),
        _user_fk("user_id", "password_resets"),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_password_resets_token_hash"),
    )
    op.create_index("ix_password_resets_user_id", "password_resets", ["user_id"])
    op.create_table(
        "runner_applications",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("application_id", sa.String(20), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("ic_number", sa.String(20), nullable=False),
        sa.Column("vehicle_type", sa.String(20), nullable=False),
        sa.Column("plate_number", sa.String(20), nullable=True),
        sa.Column("pet_experience", sa.JSON, nullable=False),
        sa.Column("comfortable_with_live_pets", sa.Boolean, nullable=False),
        sa.Column("consent_acknowledged", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("application_id", name="uq_runner_applications_application_id"),
        sa.UniqueConstraint("ic_number", name="uq_runner_applications_ic_number"),
        sa.UniqueConstraint("year", "sequence", name="uq_runner_applications_year_sequence"),
    )
    op.create_table(
        "runner_application_counters",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_sequence", sa.Integer, nullable=False),
    )
    op.create_table(
        "user_referral_codes",
        sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id", name="fk_user_referral_codes_user_id_users"),
                  primary_key=True),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("code", name="uq_user_referral_codes_code"),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.Uuid, primary_key=True),
        _user_fk("referrer_id", "referrals"),
        _user_fk("referee_id", "referrals"),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("reward_amount_cents", sa.Integer, nullable=False),
        sa.Column("referrer_credited", sa.Boolean, nullable=False),
        sa.Column("referee_credited", sa.Boolean, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("referee_id", name="uq_referrals_referee_id"),
        sa.CheckConstraint("referrer_id <> referee_id", name="ck_referrals_not_self"),
    )
    op.create_index("ix_referrals_referrer_id", "referrals", ["referrer_id"])


def downgrade() -> None:
    for table in ("referrals", "user_referral_codes", "runner_application_counters",
                  "runner_applications", "password_resets", "refresh_tokens", "users"):
        op.drop_table(table)
    drop_event_tables(op.get_bind())
