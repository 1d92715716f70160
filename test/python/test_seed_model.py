#!/usr/bin/python3
"""The tutorial's SQLAlchemy model against the extension's table.

Run: /usr/bin/python3 test/python/test_seed_model.py
(needs PGHOST/PGPORT/PGUSER of a cluster where user_mgmt is installed).

Debian 12 ships SQLAlchemy 1.4, so the model uses declarative_base() where
the tutorial (SQLAlchemy 2.0) uses `class Base(DeclarativeBase)`.

The model is the seed's, with one change: the table lives in schema
user_mgmt (the extension's schema), so `__table_args__ = {"schema":
"user_mgmt"}`.  The seed's plain `Enum(Role)` works as it is for reading and
writing (SQLAlchemy stores the member NAMES 'USER', 'CASHIER', 'ADMIN', which
are the labels of user_mgmt.role, and the enum's default type name is
"role"); test_plain_seed_enum_works proves that.  Only for the model to
describe the database exactly (reflection, Alembic autogenerate, create_all
not creating a second `public.role`) does the Enum need name="role",
schema="user_mgmt", as used in User below.
"""

import asyncio
import enum
import os
import sys
import unittest
import warnings

import bcrypt
from sqlalchemy import (Column, Enum, Integer, MetaData, String, create_engine,
                        func, inspect, select, text)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import declarative_base, sessionmaker

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

# SQLAlchemy 1.4 cannot reflect expression indexes such as a unique index on
# lower(username); it says so and skips them, which is fine here.
warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")

DB = "um_test_seed"            # the extension's default (newest) version
DB10 = "um_test_seed_v10"      # version 1.0: the tutorial's "Initial Migrate"

Base = declarative_base()


class Role(enum.Enum):
    USER = "Пользователь"
    CASHIER = "Кассир"
    ADMIN = "Администратор"

    @classmethod
    def get_values(cls):
        return [member.value for member in cls]


class User(Base):
    __tablename__ = "users"
    __table_args__ = {"schema": "user_mgmt"}

    id = Column(Integer, primary_key=True)
    username = Column(String(20), unique=True, nullable=False)
    hashed_password = Column(String(512), nullable=False)
    role = Column(Enum(Role, name="role", schema="user_mgmt"), default=Role.USER, nullable=False)
    full_name = Column(String(40), nullable=False)


# The seed's model verbatim except for the table's schema (see module doc).
SeedBase = declarative_base()


class SeedUser(SeedBase):
    __tablename__ = "users"
    __table_args__ = {"schema": "user_mgmt"}

    id = Column(Integer, primary_key=True)
    username = Column(String(20), unique=True, nullable=False)
    hashed_password = Column(String(512), nullable=False)
    role = Column(Enum(Role), default=Role.USER, nullable=False)
    full_name = Column(String(40), nullable=False)


def py_hash(password, cost=4):
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()


def setUpModule():
    tap.create_test_db(DB)
    tap.create_test_db(DB10, [("user_mgmt", "1.0")])


def tearDownModule():
    tap.drop_test_db(DB)
    tap.drop_test_db(DB10)


class SeedModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = create_engine(tap.sqlalchemy_url("psycopg2", DB), future=True)
        cls.Session = sessionmaker(bind=cls.engine, future=True)

    @classmethod
    def tearDownClass(cls):
        cls.engine.dispose()

    def setUp(self):
        with self.engine.begin() as conn:
            conn.execute(text("TRUNCATE user_mgmt.users RESTART IDENTITY"))

    def add(self, **kwargs):
        with self.Session() as s:
            user = User(**kwargs)
            s.add(user)
            s.commit()
            return user.id

    def test_insert_python_hash_and_read_back(self):
        uid = self.add(username="ivan", hashed_password=py_hash("секрет"),
                       role=Role.ADMIN, full_name="Иван Петров")
        with self.Session() as s:
            u = s.get(User, uid)
            self.assertEqual(u.username, "ivan")
            self.assertIs(u.role, Role.ADMIN)
            self.assertEqual(u.role.value, "Администратор")
            self.assertEqual(u.full_name, "Иван Петров")
            self.assertTrue(bcrypt.checkpw("секрет".encode(), u.hashed_password.encode()))
            ok = s.execute(select(func.user_mgmt.verify_password("секрет", User.hashed_password))
                           .where(User.id == uid)).scalar_one()
            bad = s.execute(select(func.user_mgmt.verify_password("Секрет", User.hashed_password))
                            .where(User.id == uid)).scalar_one()
            self.assertIs(ok, True)
            self.assertIs(bad, False)
            self.assertEqual(s.execute(text("SELECT role::text FROM user_mgmt.users WHERE id = :i"),
                                       {"i": uid}).scalar_one(), "ADMIN")

    def test_insert_with_sql_hash(self):
        with self.Session() as s:
            u = User(username="kassa1", hashed_password=func.user_mgmt.hash_password("pa55", 4),
                     role=Role.CASHIER, full_name="Мария")
            s.add(u)
            s.commit()
            uid = u.id
        with self.Session() as s:
            u = s.get(User, uid)
            self.assertIs(u.role, Role.CASHIER)
            self.assertTrue(u.hashed_password.startswith("$2b$04$"))
            self.assertTrue(bcrypt.checkpw(b"pa55", u.hashed_password.encode()))
            found = s.execute(select(User.username).where(
                User.username == "kassa1",
                func.user_mgmt.verify_password("pa55", User.hashed_password))).scalars().all()
            self.assertEqual(found, ["kassa1"])
            label = s.execute(select(func.user_mgmt.role_label(User.role))
                              .where(User.id == uid)).scalar_one()
            self.assertEqual(label, Role.CASHIER.value)

    def test_default_role_is_user(self):
        uid = self.add(username="plain", hashed_password=py_hash("x"), full_name="Plain")
        with self.engine.connect() as conn:
            # the database default too, not only the model's
            conn.execute(text("INSERT INTO user_mgmt.users (username, hashed_password, full_name) "
                              "VALUES ('raw', :h, 'Raw')"), {"h": py_hash("y")})
            conn.commit()
        with self.Session() as s:
            self.assertIs(s.get(User, uid).role, Role.USER)
            raw = s.execute(select(User).where(User.username == "raw")).scalar_one()
            self.assertIs(raw.role, Role.USER)

    def test_duplicate_username_is_integrity_error(self):
        self.add(username="dup", hashed_password=py_hash("a"), full_name="First")
        with self.Session() as s:
            s.add(User(username="dup", hashed_password=py_hash("b"), full_name="Second"))
            with self.assertRaises(IntegrityError) as ctx:
                s.commit()
            self.assertEqual(ctx.exception.orig.pgcode, "23505")

    def test_plaintext_password_rejected_by_check(self):
        with self.Session() as s:
            s.add(User(username="naive", hashed_password="hunter2", full_name="Naive"))
            with self.assertRaises(IntegrityError) as ctx:
                s.commit()
            self.assertEqual(ctx.exception.orig.pgcode, "23514")

    def test_role_labels_match_get_values(self):
        with self.engine.connect() as conn:
            labels = conn.execute(select(func.user_mgmt.role_labels())).scalar_one()
            self.assertEqual(labels, Role.get_values())
            for r in Role:
                back = conn.execute(text("SELECT user_mgmt.role_from_label(:l)::text"),
                                    {"l": r.value}).scalar_one()
                self.assertEqual(back, r.name)

    def test_plain_seed_enum_works(self):
        # The seed's unmodified Enum(Role): reads and writes work unchanged.
        Session = sessionmaker(bind=self.engine, future=True)
        with Session() as s:
            s.add(SeedUser(username="seed", hashed_password=py_hash("s"),
                           role=Role.CASHIER, full_name="Seed"))
            s.add(SeedUser(username="seed2", hashed_password=py_hash("t"), full_name="Seed 2"))
            s.commit()
        with Session() as s:
            rows = s.execute(select(SeedUser.username, SeedUser.role)
                             .order_by(SeedUser.username)).all()
            self.assertEqual(rows, [("seed", Role.CASHIER), ("seed2", Role.USER)])


class SchemaV10Test(unittest.TestCase):
    """Version 1.0 is the tutorial's "Initial Migrate": its users table is
    exactly what Alembic's autogenerate makes of the seed's model."""

    DB = DB10
    EXACT = True

    @classmethod
    def setUpClass(cls):
        cls.engine = create_engine(tap.sqlalchemy_url("psycopg2", cls.DB), future=True)

    @classmethod
    def tearDownClass(cls):
        cls.engine.dispose()

    def test_reflection_matches_model(self):
        insp = inspect(self.engine)
        self.assertIn("users", insp.get_table_names(schema="user_mgmt"))
        cols = {c["name"]: c for c in insp.get_columns("users", schema="user_mgmt")}
        model = User.__table__.columns
        if self.EXACT:
            self.assertEqual(list(cols), [c.name for c in model])
        else:
            # Later versions add columns after the model's own; the seed's
            # model can still insert only if each has a default or is nullable.
            self.assertEqual(list(cols)[:len(model)], [c.name for c in model])
            for name in list(cols)[len(model):]:
                with self.subTest(extra_column=name):
                    self.assertTrue(cols[name]["nullable"] or cols[name]["default"] is not None,
                                    "%s is NOT NULL without a default" % name)
        for mc in model:
            with self.subTest(column=mc.name):
                rc = cols[mc.name]
                self.assertEqual(rc["nullable"], mc.nullable)
                self.assertEqual(rc["type"]._type_affinity, mc.type._type_affinity,
                                 "%r vs %r" % (rc["type"], mc.type))
                self.assertEqual(getattr(rc["type"], "length", None),
                                 getattr(mc.type, "length", None))
        self.assertEqual(list(cols["role"]["type"].enums), list(User.__table__.c.role.type.enums))
        self.assertEqual(cols["role"]["type"].name, "role")
        self.assertEqual(cols["role"]["type"].schema, "user_mgmt")
        self.assertTrue(cols["id"]["autoincrement"])
        self.assertEqual(insp.get_pk_constraint("users", schema="user_mgmt")["constrained_columns"],
                         ["id"])
        uniques = [u["column_names"] for u in insp.get_unique_constraints("users", schema="user_mgmt")]
        self.assertEqual(uniques, [["username"]])
        # and MetaData.reflect sees the same table
        md = MetaData()
        md.reflect(bind=self.engine, schema="user_mgmt", only=["users"])
        t = md.tables["user_mgmt.users"]
        self.assertEqual([c.name for c in t.primary_key], ["id"])

    def _alembic_diffs(self, metadata):
        """Alembic autogenerate's diff of the database against `metadata`,
        flattened, without comment differences: the extension documents its
        table and columns with COMMENTs, which the model does not carry (just
        as it does not carry the extension's CHECK constraints, which
        Alembic does not compare at all)."""
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        def include_name(name, type_, parent_names):
            if type_ == "schema":
                return name == "user_mgmt"
            if type_ == "table":
                return name == "users"
            return True

        with self.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_schemas": True,
                "include_name": include_name,
            })
            diffs = compare_metadata(ctx, metadata)
        flat = []
        for d in diffs:
            flat.extend(d if isinstance(d, list) else [d])
        return [d for d in flat if d[0] not in
                ("modify_comment", "add_table_comment", "remove_table_comment")]

    def test_alembic_autogenerate_reports_no_difference(self):
        diffs = self._alembic_diffs(Base.metadata)
        if not self.EXACT:  # columns added by later versions
            diffs = [d for d in diffs if d[0] != "remove_column"
                     or not (d[3].nullable or d[3].server_default is not None)]
        self.assertEqual(diffs, [])

    def test_alembic_plain_seed_enum_differs_only_by_schema(self):
        # Documents the one change to the seed's model: with plain Enum(Role)
        # Alembic's only complaint is the enum type's schema.
        diffs = self._alembic_diffs(SeedBase.metadata)
        if not self.EXACT:
            diffs = [d for d in diffs if d[0] != "remove_column"]
        self.assertEqual(len(diffs), 1, diffs)
        op, schema, table, column, _info, db_type, model_type = diffs[0]
        self.assertEqual((op, schema, table, column), ("modify_type", "user_mgmt", "users", "role"))
        self.assertEqual((db_type.name, db_type.schema), ("role", "user_mgmt"))
        self.assertEqual((model_type.name, model_type.schema), ("role", None))
        self.assertEqual(list(db_type.enums), list(model_type.enums))


class SchemaCurrentTest(SchemaV10Test):
    """The default (newest) version keeps the model's columns as they are;
    columns it adds are nullable or have a server default."""

    DB = DB
    EXACT = False


class SeedAsyncTest(unittest.TestCase):
    """The seed's async stack: create_async_engine + asyncpg + AsyncSession."""

    def test_async_insert_and_read(self):
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

        async def scenario():
            engine = create_async_engine(tap.sqlalchemy_url("asyncpg", DB))
            async_session = sessionmaker(bind=engine, class_=AsyncSession, expire_on_commit=False)
            try:
                async with async_session() as session:
                    user = User(username="async_anna", hashed_password=py_hash("asyncpw"),
                                role=Role.ADMIN, full_name="Анна")
                    session.add(user)
                    await session.commit()
                    uid = user.id
                async with async_session() as session:
                    got = (await session.execute(select(User).where(User.id == uid))).scalar_one()
                    ok = (await session.execute(
                        select(func.user_mgmt.verify_password("asyncpw", User.hashed_password))
                        .where(User.id == uid))).scalar_one()
                    await session.delete(got)
                    await session.commit()
                    return got, ok
            finally:
                await engine.dispose()

        got, ok = asyncio.run(scenario())
        self.assertEqual(got.username, "async_anna")
        self.assertIs(got.role, Role.ADMIN)
        self.assertEqual(got.full_name, "Анна")
        self.assertIs(ok, True)


if __name__ == "__main__":
    tap.main()
