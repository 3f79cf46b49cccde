"""JSON API for logged responses, follow-up rules and follow-ups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from campaign.accounts.models import Role, User
from campaign.deps import AnyUser, SessionDep, allow
from letters import followups, responses
from letters.models import FollowUpStatus
from letters.schemas import MAX_ID

router = APIRouter(tags=["responses"])

# Volunteers log responses; everyone signed in has one of these roles, but the list says who.
ResponderUser = Annotated[User, Depends(allow(Role.staff, Role.coordinator, Role.volunteer))]
FollowUpUser = Annotated[User, Depends(allow(Role.staff, Role.coordinator))]
StaffUser = Annotated[User, Depends(allow(Role.staff))]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/responses", response_model=responses.ResponseRead, status_code=201)
def log_response(response_in: responses.ResponseCreate, session: SessionDep, user: ResponderUser):
    return responses.log_response(session, response_in=response_in, actor=user)


@router.get("/responses", response_model=list[responses.ResponseRead])
def list_responses(session: SessionDep, user: AnyUser, person_id: IdFilter = None, letter_id: IdFilter = None,
                   campaign_id: IdFilter = None):
    return responses.list_responses(session, person_id=person_id, letter_id=letter_id, campaign_id=campaign_id)


@router.get("/responses/{response_id}", response_model=responses.ResponseRead)
def get_response(response_id: ItemId, session: SessionDep, user: AnyUser):
    return responses.get_response(session, response_id=response_id)


@router.get("/campaigns/{campaign_id}/follow-up-rules", response_model=list[followups.FollowUpRuleRead])
def list_rules(campaign_id: ItemId, session: SessionDep, user: AnyUser):
    return followups.list_rules(session, campaign_id=campaign_id)


@router.put("/campaigns/{campaign_id}/follow-up-rules", response_model=followups.FollowUpRuleRead)
def set_rule(campaign_id: ItemId, rule_in: followups.FollowUpRuleIn, session: SessionDep, user: FollowUpUser):
    return followups.set_rule(session, campaign_id=campaign_id, rule_in=rule_in, actor=user)


@router.get("/follow-ups", response_model=list[followups.FollowUpRead])
def list_followups(session: SessionDep, user: FollowUpUser, status: FollowUpStatus | None = FollowUpStatus.open,
                   campaign_id: IdFilter = None, person_id: IdFilter = None):
    return followups.list_followups(session, status=status, campaign_id=campaign_id, person_id=person_id)


@router.post("/follow-ups/{follow_up_id}/approve", response_model=followups.FollowUpRead)
def approve_chaser(follow_up_id: ItemId, session: SessionDep, user: StaffUser):
    return followups.approve_chaser(session, follow_up_id=follow_up_id, actor=user)
