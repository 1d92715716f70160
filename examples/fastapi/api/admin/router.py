from typing import List

from fastapi import APIRouter, Depends
from sqlalchemy import select

from api.auth.dependencies import CurrentUser, current_admin
from api.user.models import accounts
from api.user.schemas import UserOut

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/users", response_model=List[UserOut])
async def list_users(admin: CurrentUser = Depends(current_admin)) -> List[UserOut]:
    """Every account; ADMIN only (current_user_role() = 'ADMIN', else 403)."""
    rows = (await admin.db.execute(select(accounts).order_by(accounts.c.id))).all()
    return [UserOut.from_row(r) for r in rows]
