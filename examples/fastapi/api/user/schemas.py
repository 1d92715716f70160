from datetime import datetime
from typing import Optional

from pydantic import BaseModel


class UserCreate(BaseModel):
    """Sign-up form.  No role: sign_up only ever makes a USER."""
    username: str
    password: str
    full_name: str


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: str            # USER, CASHIER, ADMIN
    role_label: str      # Пользователь, Кассир, Администратор
    is_active: bool
    created_at: datetime
    last_login_at: Optional[datetime]

    @classmethod
    def from_row(cls, row):
        return cls(id=row.id, username=row.username, full_name=row.full_name,
                   role=row.role.name, role_label=row.role.value, is_active=row.is_active,
                   created_at=row.created_at, last_login_at=row.last_login_at)
