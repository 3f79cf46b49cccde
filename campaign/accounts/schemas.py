from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from campaign.accounts.models import Role


EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class UserCreate(BaseModel):
    email: str = Field(max_length=320, pattern=EMAIL_PATTERN)
    role: Role
    password: str = Field(min_length=10, max_length=200)
    name: str = Field(default="", max_length=200)


class UserRead(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class TokenCreate(BaseModel):
    name: str = Field(default="", max_length=200)


class TokenRead(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The token itself; shown this once and never again.")
