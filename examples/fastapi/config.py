"""The tutorial's config.py: settings from the environment.

DATABASE_URL connects as the application's role (not a superuser), with the
grants of setup.sql.  There is no SECRET_KEY: tokens are signed and checked
by the database (user_mgmt's signing keys).
"""

import os

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql+asyncpg://app@localhost/app")
