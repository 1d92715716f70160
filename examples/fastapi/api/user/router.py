from fastapi import APIRouter, Depends, status
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.dependencies import CurrentUser, current_user
from api.user.models import accounts
from api.user.schemas import UserCreate, UserOut
from database import get_session

router = APIRouter(prefix="/users", tags=["users"])


@router.post("/register", response_model=UserOut, status_code=status.HTTP_201_CREATED)
async def register(body: UserCreate, db: AsyncSession = Depends(get_session)) -> UserOut:
    """sign_up: hashes the password, checks the policy (22023 -> 422) and
    the username's uniqueness in any case (23505 -> 409), and can only
    make a USER."""
    user_id = (await db.execute(text("SELECT user_mgmt.sign_up(:username, :password, :full_name)"),
                                body.dict())).scalar_one()
    await db.commit()
    row = (await db.execute(select(accounts).where(accounts.c.id == user_id))).one()
    return UserOut.from_row(row)


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser = Depends(current_user)) -> UserOut:
    row = (await user.db.execute(
        select(accounts).where(accounts.c.id == func.user_mgmt.current_user_id()))).one()
    return UserOut.from_row(row)
