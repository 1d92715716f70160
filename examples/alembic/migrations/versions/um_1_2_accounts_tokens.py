"""user_mgmt 1.2: accounts API, lockout, tokens and signing keys

Grants the application's role (-x app_role=NAME or APP_ROLE) SELECT on the
new view user_mgmt.accounts (every column of users but the hash).  The
downgrade drops the view, and the grant with it.

Revision ID: um_1_2
Revises: um_1_1
"""
from alembic import context, op

import user_mgmt_alembic  # noqa: F401

revision = "um_1_2"
down_revision = "um_1_1"
branch_labels = None
depends_on = None


def _grant_to_app_role(what):
    role = context.config.attributes.get("app_role")
    if role:
        quote = op.get_context().impl.dialect.identifier_preparer.quote
        op.execute("GRANT %s TO %s" % (what, quote(role)))


def upgrade() -> None:
    op.update_extension("user_mgmt", "1.2", from_version="1.1")
    _grant_to_app_role("SELECT ON user_mgmt.accounts")


def downgrade() -> None:
    # Drops the signing keys: tokens issued so far stop verifying.
    op.update_extension("user_mgmt", "1.1", from_version="1.2")
