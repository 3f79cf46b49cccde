from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel

from campaign.accounts.models import Role, User
from campaign.deps import AdminUser, AnyUser, SessionDep, allow
from workers import outbox, service
from workers.mail import Attachment
from workers.models import OutboxStatus
from workers.schemas import (CampaignSendsPaused, OutboxCounts, OutboxCreate, OutboxDetail, OutboxRead,
                             OutboxReschedule)

router = APIRouter(tags=["system"])

StaffUser = Annotated[User, Depends(allow(Role.staff))]
# Database ids are 32-bit integers; larger numbers are refused as input, not passed to the database.
MessageId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CampaignFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


class PingRead(BaseModel):
    token: str
    requested_at: datetime
    completed_at: datetime | None
    worker: str


@router.post("/system/pings", response_model=PingRead, status_code=status.HTTP_202_ACCEPTED)
def request_ping(session: SessionDep, admin: AdminUser):
    """Send a task through the broker to a worker; poll the ping to see it completed."""
    return service.request_ping(session)


@router.get("/system/pings/{token}", response_model=PingRead)
def read_ping(token: str, session: SessionDep, admin: AdminUser):
    return service.get_ping(session, token=token)


# --- the outbox --------------------------------------------------------------------


@router.get("/outbox", response_model=list[OutboxRead], tags=["outbox"])
def list_outbox(session: SessionDep, user: AnyUser, status: OutboxStatus | None = None,
                campaign_id: CampaignFilter = None, limit: Annotated[int, Query(ge=1, le=500)] = 100):
    return outbox.list_messages(session, status=status, campaign_id=campaign_id, limit=limit)


@router.get("/outbox/counts", response_model=OutboxCounts, tags=["outbox"])
def outbox_counts(session: SessionDep, user: AnyUser, campaign_id: CampaignFilter = None):
    return OutboxCounts(counts=outbox.count_by_status(session, campaign_id=campaign_id),
                        paused_campaign_ids=sorted(outbox.paused_campaign_ids(session)))


@router.post("/outbox", response_model=OutboxRead, status_code=status.HTTP_201_CREATED, tags=["outbox"])
def schedule_message(message_in: OutboxCreate, session: SessionDep, user: StaffUser):
    when = outbox.local_to_utc(message_in.scheduled_at, outbox.campaign_zone(session, message_in.campaign_id))
    return outbox.schedule(
        session, recipient_address=message_in.recipient_address, recipient_name=message_in.recipient_name,
        subject=message_in.subject, text_body=message_in.text_body, html_body=message_in.html_body,
        kind=message_in.kind, campaign_id=message_in.campaign_id, scheduled_at=when, reply_to=message_in.reply_to,
        in_reply_to=message_in.in_reply_to, references=message_in.references, actor=user,
        attachments=[Attachment(a.filename, a.content_type, a.content()) for a in message_in.attachments])


@router.get("/outbox/{message_id}", response_model=OutboxDetail, tags=["outbox"])
def read_message(message_id: MessageId, session: SessionDep, user: AnyUser):
    message = outbox.get_message(session, message_id=message_id)
    return OutboxDetail(**message.model_dump(), delivery_attempts=[
        attempt.model_dump() for attempt in outbox.attempts_for(session, message_id=message_id)])


@router.post("/outbox/{message_id}/reschedule", response_model=OutboxRead, tags=["outbox"])
def reschedule_message(message_id: MessageId, change: OutboxReschedule, session: SessionDep, user: StaffUser):
    message = outbox.get_message(session, message_id=message_id)
    when = outbox.local_to_utc(change.scheduled_at, outbox.campaign_zone(session, message.campaign_id))
    return outbox.reschedule(session, message_id=message_id, scheduled_at=when, actor=user)


@router.post("/outbox/{message_id}/cancel", response_model=OutboxRead, tags=["outbox"])
def cancel_message(message_id: MessageId, session: SessionDep, user: StaffUser):
    return outbox.cancel(session, message_id=message_id, actor=user)


@router.post("/outbox/{message_id}/retry", response_model=OutboxRead, tags=["outbox"])
def retry_message(message_id: MessageId, session: SessionDep, user: StaffUser):
    return outbox.retry(session, message_id=message_id, actor=user)


@router.post("/outbox/campaigns/{campaign_id}/pause", response_model=CampaignSendsPaused, tags=["outbox"])
def pause_campaign_sends(campaign_id: CampaignId, session: SessionDep, user: StaffUser):
    held = outbox.pause_campaign(session, campaign_id=campaign_id, actor=user)
    return CampaignSendsPaused(campaign_id=campaign_id, paused=True, messages=held)


@router.post("/outbox/campaigns/{campaign_id}/resume", response_model=CampaignSendsPaused, tags=["outbox"])
def resume_campaign_sends(campaign_id: CampaignId, session: SessionDep, user: StaffUser):
    released = outbox.resume_campaign(session, campaign_id=campaign_id, actor=user)
    return CampaignSendsPaused(campaign_id=campaign_id, paused=False, messages=released)
