"""Login, refresh, logout: each a call to user_mgmt.

Every password check (with the lockout) and every token check is the
database's; this module only passes values through and maps SQLSTATEs to
HTTP (api/errors.py).
"""

import ipaddress

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.dependencies import CurrentUser, current_user, oauth2_scheme
from api.auth.schemas import RefreshRequest, Token
from database import get_session

router = APIRouter(prefix="/auth", tags=["auth"])

TOKEN_COLUMNS = "access_token, refresh_token, access_expires_at, refresh_expires_at, session_id"


def _client_addr(request: Request):
    """The client's IP address for the session record, or None (sign_in then
    records the database connection's own address)."""
    try:
        return ipaddress.ip_address(request.client.host) if request.client else None
    except ValueError:   # e.g. "testclient"
        return None


@router.post("/login", response_model=Token)
async def login(request: Request,
                form: OAuth2PasswordRequestForm = Depends(),
                db: AsyncSession = Depends(get_session)) -> Token:
    """OAuth2 password flow.  Wrong password, unknown user, locked or
    inactive account: all the same 401 (user_mgmt's 28P01)."""
    row = (await db.execute(
        text("SELECT %s FROM user_mgmt.sign_in(:username, :password, :user_agent, :client_addr)"
             % TOKEN_COLUMNS),
        {"username": form.username, "password": form.password,
         "user_agent": request.headers.get("user-agent"),
         "client_addr": _client_addr(request)})).one()
    await db.commit()   # the session itself was committed by the database already
    return Token.from_row(row)


@router.post("/refresh", response_model=Token)
async def refresh(body: RefreshRequest, db: AsyncSession = Depends(get_session)) -> Token:
    """A new access token and a new refresh token; the one given is used
    up.  Presenting a used one again ends the whole session (401)."""
    row = (await db.execute(text("SELECT %s FROM user_mgmt.refresh(:token)" % TOKEN_COLUMNS),
                            {"token": body.refresh_token})).one()
    await db.commit()
    return Token.from_row(row)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(token: str = Depends(oauth2_scheme),
                 db: AsyncSession = Depends(get_session)) -> Response:
    """Ends the session of the bearer token (an expired access token too:
    its signature is enough), at once, in every backend.  Idempotent."""
    await db.execute(text("SELECT user_mgmt.logout(:token)"), {"token": token})
    await db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/logout_all")
async def logout_all(user: CurrentUser = Depends(current_user)) -> dict:
    """Ends every session of the caller ("log out everywhere")."""
    ended = (await user.db.execute(text("SELECT user_mgmt.logout_all()"))).scalar_one()
    await user.db.commit()
    return {"sessions_ended": ended}
