"""The outbox page: what is scheduled, sent and failed, with retry, cancel, reschedule and pause."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request

from campaign.accounts.models import Role, User
from campaign.deps import SessionDep, allow
from campaign.errors import CosignError, FieldError, InvalidInput
from campaign.web import redirect, render
from workers import outbox
from workers.models import OutboxStatus

router = APIRouter(include_in_schema=False)  # pages, not part of the JSON API

StaffUser = Annotated[User, Depends(allow(Role.staff))]


def _page(request: Request, session, status: OutboxStatus | None, *, errors: dict | None = None,
          typed: dict | None = None, status_code: int = 200):
    return render(request, "workers/outbox.html", {
        **outbox.overview(session, status=status), "status": status, "statuses": list(OutboxStatus),
        "errors": errors or {}, "typed": typed or {}}, status_code=status_code)


@router.get("/outbox")
def outbox_page(request: Request, session: SessionDep, user: StaffUser, status: OutboxStatus | None = None):
    return _page(request, session, status)


@router.post("/outbox/{message_id}/cancel")
def cancel(message_id: int, session: SessionDep, user: StaffUser):
    outbox.cancel(session, message_id=message_id, actor=user)
    return redirect("/outbox?status=cancelled", f"Message {message_id} is cancelled; it will not be sent.")


@router.post("/outbox/{message_id}/retry")
def retry(message_id: int, session: SessionDep, user: StaffUser):
    outbox.retry(session, message_id=message_id, actor=user)
    return redirect("/outbox?status=scheduled", f"Message {message_id} will be sent again now.")


@router.post("/outbox/{message_id}/reschedule")
def reschedule(request: Request, message_id: int, session: SessionDep, user: StaffUser,
               scheduled_at: Annotated[str, Form(max_length=40)] = ""):
    """The new time is entered in the campaign's time zone, as the page shows it."""
    try:
        with session.begin_nested():
            message = outbox.get_message(session, message_id=message_id)
            try:
                local = datetime.fromisoformat(scheduled_at)
            except ValueError:
                raise InvalidInput("Enter a date and time.", errors=[
                    FieldError("scheduled_at", "enter a date and time, e.g. 2026-12-01T09:30")]) from None
            zone_name = outbox.campaign_zone(session, message.campaign_id)
            outbox.reschedule(session, message_id=message_id, actor=user,
                              scheduled_at=outbox.local_to_utc(local.replace(tzinfo=None), zone_name))
    except CosignError as error:
        detail = "; ".join(e.msg for e in error.errors) or error.detail
        return _page(request, session, OutboxStatus.scheduled, errors={message_id: detail},
                     typed={message_id: scheduled_at}, status_code=error.status_code)
    return redirect("/outbox?status=scheduled", f"Message {message_id} is rescheduled.")


@router.post("/outbox/campaigns/{campaign_id}/pause")
def pause(campaign_id: int, session: SessionDep, user: StaffUser):
    held = outbox.pause_campaign(session, campaign_id=campaign_id, actor=user)
    return redirect("/outbox", f"Sending is paused for this campaign ({held} messages held).")


@router.post("/outbox/campaigns/{campaign_id}/resume")
def resume(campaign_id: int, session: SessionDep, user: StaffUser):
    released = outbox.resume_campaign(session, campaign_id=campaign_id, actor=user)
    return redirect("/outbox", f"Sending has resumed for this campaign ({released} messages released).")
