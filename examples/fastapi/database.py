"""The tutorial's database.py: async engine, session factory, get_session."""

from typing import AsyncGenerator

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

from config import DATABASE_URL

# The tutorial turns echo on.  Off here, and hide_parameters on: SQLAlchemy
# would otherwise log every statement's parameters (with echo) and put them
# in every database error's text ("[parameters: ('olga', 'correct horse',
# ...)]"), passwords and tokens included, wherever an error gets logged.
engine = create_async_engine(DATABASE_URL, echo=False, hide_parameters=True)

async_session = sessionmaker(
    bind=engine,
    class_=AsyncSession,
    expire_on_commit=False,
)


async def get_session() -> AsyncGenerator[AsyncSession, None]:
    async with async_session() as session:
        yield session
