"""identity: phone sign-in (otp_codes, users.verified_phone), the verticals' roles, accounts
without email or password

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

ROLES = ("owner", "runner", "shop", "admin", "passenger", "driver", "customer", "courier", "gate")
OLD_ROLES = ROLES[:4]
# tables whose rows reference users: SQLite rebuilds users by dropping it, which their foreign
# keys (enforced, and checked at once) would refuse, so their rows step aside meanwhile
CHILDREN = ("refresh_tokens", "password_resets", "user_referral_codes", "referrals")


def _role_check(roles: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{role}'" for role in roles) + ")"


def _alter_users(roles: tuple[str, ...], *, nullable: bool) -> None:
    if not is_postgres():
        for child in CHILDREN:
            op.execute(f"CREATE TEMP TABLE kept_{child} AS SELECT * FROM {child}")
            op.execute(f"DELETE FROM {child}")
    with op.batch_alter_table("users", recreate="auto") as batch:
        batch.drop_constraint("ck_users_role", type_="check")
        batch.create_check_constraint("ck_users_role", _role_check(roles))
        batch.alter_column("email", existing_type=sa.String(255), nullable=nullable)
        batch.alter_column("password_hash", existing_type=sa.String(255), nullable=nullable)
    if not is_postgres():
        for child in reversed(CHILDREN):
            op.execute(f"INSERT INTO {child} SELECT * FROM kept_{child}")
            op.execute(f"DROP TABLE kept_{child}")


def upgrade() -> None:
    _alter_users(ROLES, nullable=True)
    op.add_column("users", sa.Column("verified_phone", sa.String(16), nullable=True))
    op.create_index("uq_users_verified_phone", "users", ["verified_phone"], unique=True)
    op.create_table(
        "otp_codes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("consumed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_otp_codes_phone_created_at", "otp_codes", ["phone", "created_at"])


def downgrade() -> None:
    op.drop_table("otp_codes")
    op.drop_index("uq_users_verified_phone", "users")
    op.drop_column("users", "verified_phone")
    gone = (f"SELECT id FROM users WHERE email IS NULL OR password_hash IS NULL "
            f"OR NOT ({_role_check(OLD_ROLES)})")
    op.execute(f"DELETE FROM referrals WHERE referrer_id IN ({gone}) OR referee_id IN ({gone})")
    for child in ("refresh_tokens", "password_resets", "user_referral_codes"):
        op.execute(f"DELETE FROM {child} WHERE user_id IN ({gone})")
    op.execute(f"DELETE FROM users WHERE id IN ({gone})")
    _alter_users(OLD_ROLES, nullable=False)
