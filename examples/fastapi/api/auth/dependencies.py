"""Who is calling: the bearer token, checked by the database.

``current_user`` gives each request one transaction in which
``user_mgmt.set_session_token(token)`` has verified the token (signature,
expiry, and that its session is still live) and remembers its claims, so
that ``user_mgmt.current_user_id()`` / ``current_user_role()`` (and any
row-level security policy using them) work for the rest of the request.
They ask the session again at every call: a logout or a revocation from
anywhere ends the identity even inside a running request.  The claims end
with the transaction: a route that commits has no identity afterwards.
"""

from dataclasses import dataclass
from uuid import UUID

from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.user.models import Role
from database import get_session

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/login")


@dataclass
class CurrentUser:
    id: int
    role: Role
    session_id: UUID
    db: AsyncSession       # the request's transaction, with the token's claims


async def current_user(token: str = Depends(oauth2_scheme),
                       db: AsyncSession = Depends(get_session)) -> CurrentUser:
    # 28000 (any reason the token is not good) -> 401, see api/errors.py
    await db.execute(text("SELECT user_mgmt.set_session_token(:token)"), {"token": token})
    row = (await db.execute(text(
        "SELECT user_mgmt.current_user_id(), user_mgmt.current_user_role()::text, "
        "user_mgmt.current_session_id()"))).one()
    return CurrentUser(id=row[0], role=Role[row[1]], session_id=row[2], db=db)


async def current_admin(user: CurrentUser = Depends(current_user)) -> CurrentUser:
    is_admin = (await user.db.execute(
        text("SELECT user_mgmt.current_user_role() = 'ADMIN'"))).scalar_one()
    if not is_admin:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Administrators only")
    return user
