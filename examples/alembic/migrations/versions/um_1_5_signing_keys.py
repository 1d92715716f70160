"""user_mgmt 1.5: EdDSA and ES256 signing keys, jwks()

jwks() and public_key_pem() are PUBLIC: nothing to grant.
Downgrade: refused while an EdDSA or ES256 key is unretired; first
SELECT user_mgmt.rotate_signing_key('HS256') and retire the others.

Revision ID: um_1_5
Revises: um_1_4
"""
from alembic import op

import user_mgmt_alembic  # noqa: F401

revision = "um_1_5"
down_revision = "um_1_4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.update_extension("user_mgmt", "1.5", from_version="1.4")


def downgrade() -> None:
    op.update_extension("user_mgmt", "1.4", from_version="1.5")
