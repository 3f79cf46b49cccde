from __future__ import annotations

from fastapi import APIRouter, status

from campaign.accounts import service
from campaign.accounts.models import ApiToken
from campaign.accounts.schemas import TokenCreate, TokenCreated, TokenRead, UserCreate, UserRead
from campaign.deps import AdminUser, AnyUser, SessionDep

router = APIRouter(tags=["accounts"])


@router.get("/me", response_model=UserRead)
def read_me(user: AnyUser):
    return user


@router.get("/tokens", response_model=list[TokenRead])
def list_my_tokens(session: SessionDep, user: AnyUser):
    return service.list_api_tokens(session, user=user)


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(token_in: TokenCreate, session: SessionDep, user: AnyUser):
    created = service.create_api_token(session, user=user, name=token_in.name)
    record = session.get(ApiToken, created.record_id)
    return TokenCreated(**TokenRead.model_validate(record, from_attributes=True).model_dump(), token=created.secret)


@router.delete("/tokens/{token_id}", response_model=TokenRead)
def revoke_token(token_id: int, session: SessionDep, user: AnyUser):
    return service.revoke_api_token(session, token_id=token_id, actor=user, owner=user)


@router.get("/users", response_model=list[UserRead])
def list_users(session: SessionDep, admin: AdminUser):
    return service.list_users(session)


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED)
def create_user(user_in: UserCreate, session: SessionDep, admin: AdminUser):
    return service.create_user(session, email=user_in.email, role=user_in.role, password=user_in.password,
                               name=user_in.name, actor=admin)


@router.post("/users/{email}/disable", response_model=UserRead)
def disable_user(email: str, session: SessionDep, admin: AdminUser):
    return service.set_active(session, email=email, active=False, actor=admin)
