"""user_mgmt 1.1: account lifecycle columns, case-insensitive usernames

Upgrade refuses (23505) while two usernames differ only in case; the
downgrade refuses (55000) while an account is deactivated.  Both change
nothing when they refuse.

Revision ID: um_1_1
Revises: um_1_0
"""
from alembic import op

import user_mgmt_alembic  # noqa: F401

revision = "um_1_1"
down_revision = "um_1_0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.update_extension("user_mgmt", "1.1", from_version="1.0")


def downgrade() -> None:
    op.update_extension("user_mgmt", "1.0", from_version="1.1")
