"""The tutorial's models (api/user/models.py), on user_mgmt's table.

Two changes from the tutorial, both because the table and the enum are the
extension's, in schema user_mgmt: ``__table_args__`` names the schema, and
``Enum(Role, name="role", schema="user_mgmt")`` names the enum type's.
Password hashing and JWTs are done by the database (user_mgmt.sign_in,
user_mgmt.verify_token, ...), so neither bcrypt nor jwt is imported here.
"""

from enum import Enum as PyEnum

from sqlalchemy import Column, Enum, Integer, String

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


class User(Base):
    __tablename__ = "users"
    __table_args__ = {"schema": "user_mgmt"}

    id = Column(Integer, primary_key=True)
    username = Column(String(20), unique=True, nullable=False)
    hashed_password = Column(String(512), nullable=False)
    role = Column(Enum(Role, name="role", schema="user_mgmt"), default=Role.USER, nullable=False)
    full_name = Column(String(40), nullable=False)
