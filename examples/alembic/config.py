"""The tutorial's config.py: settings from the environment."""

import os

# postgresql+asyncpg://user:password@host:port/dbname (the tutorial's driver);
# postgresql+psycopg2://... works as well.  Migrations that create or update
# the extension need a superuser (see README.md).
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@localhost/app")
