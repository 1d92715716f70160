"""user_mgmt 1.0: the tutorial's "Initial Migrate" (role enum, users table)

CREATE EXTENSION user_mgmt VERSION '1.0' makes user_mgmt.role and
user_mgmt.users in exactly the shape the tutorial's models describe.
Needs a superuser (the extension is not trusted) and, for logins from 1.3
on, shared_preload_libraries = 'user_mgmt'.

Revision ID: um_1_0
Revises:
"""
from alembic import op

import user_mgmt_alembic  # noqa: F401  (registers op.create_extension / op.update_extension)

revision = "um_1_0"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_extension("user_mgmt", version="1.0")


def downgrade() -> None:
    # DROP EXTENSION drops user_mgmt.users with its rows: `alembic downgrade
    # base` deletes every user, as the tutorial's "drop table" would.
    op.drop_extension("user_mgmt")
    # CREATE EXTENSION made schema user_mgmt (the control file's) without
    # making it a member, so DROP EXTENSION leaves it; this fails (RESTRICT)
    # if the application put objects of its own there.
    op.execute("DROP SCHEMA IF EXISTS user_mgmt")
