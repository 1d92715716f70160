from datetime import datetime
from uuid import UUID

from pydantic import BaseModel


class Token(BaseModel):
    """OAuth2 bearer token response, with user_mgmt's refresh token."""
    access_token: str
    token_type: str = "bearer"
    refresh_token: str
    expires_at: datetime            # of the access token
    refresh_expires_at: datetime
    session_id: UUID

    @classmethod
    def from_row(cls, row):
        return cls(access_token=row.access_token, refresh_token=row.refresh_token,
                   expires_at=row.access_expires_at, refresh_expires_at=row.refresh_expires_at,
                   session_id=row.session_id)


class RefreshRequest(BaseModel):
    refresh_token: str
