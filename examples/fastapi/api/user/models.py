"""The tutorial's models (api/user/models.py), on user_mgmt's table.

As in the tutorial, with the table and the enum in the extension's schema
(``__table_args__`` and ``Enum(..., schema="user_mgmt")``).  The
application role does not read this table (it may not: the hashes are in
it); it reads the view ``accounts`` below.  No bcrypt, no jwt, no
SECRET_KEY: the database hashes, checks passwords and signs tokens.
"""

from enum import Enum as PyEnum

from sqlalchemy import Boolean, Column, DateTime, Enum, Integer, MetaData, String, Table

try:  # SQLAlchemy 2.0, as in the tutorial
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass
except ImportError:  # SQLAlchemy 1.4 (Debian 12)
    from sqlalchemy.orm import declarative_base

    Base = declarative_base()


class BaseEnum(PyEnum):
    @classmethod
    async def get_values(cls):
        return [member.value for member in cls]


class Role(BaseEnum):
    USER = "Пользователь"
    CASHIER = "Кассир"
    ADMIN = "Администратор"


RoleType = Enum(Role, name="role", schema="user_mgmt")


class User(Base):
    __tablename__ = "users"
    __table_args__ = {"schema": "user_mgmt"}

    id = Column(Integer, primary_key=True)
    username = Column(String(20), unique=True, nullable=False)
    hashed_password = Column(String(512), nullable=False)
    role = Column(RoleType, default=Role.USER, nullable=False)
    full_name = Column(String(40), nullable=False)


# The extension's view user_mgmt.accounts (1.2+): the columns of users but
# the hash.  In a MetaData of its own, so that neither create_all nor
# Alembic's autogenerate ever tries to create it.
views = MetaData()

accounts = Table(
    "accounts", views,
    Column("id", Integer, primary_key=True),
    Column("username", String(20)),
    Column("role", RoleType),
    Column("full_name", String(40)),
    Column("is_active", Boolean),
    Column("created_at", DateTime(timezone=True)),
    Column("last_login_at", DateTime(timezone=True)),
    schema="user_mgmt",
)
