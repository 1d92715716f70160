"""user_mgmt 1.4: sessions, refresh tokens, logout

sign_in, refresh, logout and logout_all() are PUBLIC: nothing to grant.
Upgrade: tokens issued before it carry no session and stop verifying.
Downgrade: drops the sessions and retires every signing key, so every token
issued before it stops verifying; users sign in again.

Revision ID: um_1_4
Revises: um_1_3
"""
from alembic import op

import user_mgmt_alembic  # noqa: F401

revision = "um_1_4"
down_revision = "um_1_3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.update_extension("user_mgmt", "1.4", from_version="1.3")


def downgrade() -> None:
    op.update_extension("user_mgmt", "1.3", from_version="1.4")
