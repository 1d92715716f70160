"""user_mgmt 1.3: login writer, audit trail, sign_up

Logins need shared_preload_libraries = 'user_mgmt' from this version on.
Grants the application's role EXECUTE on sign_up (never create_user, which
can make an ADMIN).  The downgrade drops the audit trail and sign_up.

Revision ID: um_1_3
Revises: um_1_2
"""
from alembic import context, op

import user_mgmt_alembic  # noqa: F401

revision = "um_1_3"
down_revision = "um_1_2"
branch_labels = None
depends_on = None


def _grant_to_app_role(what):
    role = context.config.attributes.get("app_role")
    if role:
        quote = op.get_context().impl.dialect.identifier_preparer.quote
        op.execute("GRANT %s TO %s" % (what, quote(role)))


def upgrade() -> None:
    op.update_extension("user_mgmt", "1.3", from_version="1.2")
    _grant_to_app_role("EXECUTE ON FUNCTION user_mgmt.sign_up(text, text, text)")


def downgrade() -> None:
    op.update_extension("user_mgmt", "1.2", from_version="1.3")
