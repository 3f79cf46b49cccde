from __future__ import annotations

import secrets
from datetime import timedelta

from sqlmodel import Session

from campaign.db import utcnow
from campaign.models import Campaign
from workers import outbox
from workers.models import OutboxMessage


def make_campaign(session: Session, *, timezone: str = "Europe/London", reply_to: str = "") -> Campaign:
    campaign = Campaign(slug=f"c-{secrets.token_hex(4)}", name=f"Campaign {secrets.token_hex(2)}",
                        timezone=timezone, reply_to=reply_to)
    session.add(campaign)
    session.flush()
    return campaign


def make_message(session: Session, *, number: int = 1, domain: str = "parliament.example", when=None,
                 campaign_id: int | None = None, **fields) -> OutboxMessage:
    values = {"recipient_address": f"member{number}@{domain}", "recipient_name": f"Member {number}",
              "subject": f"Stop the visit ({number})", "text_body": f"Dear Member {number},\n\nPlease act.\n",
              "html_body": f"<p>Dear Member {number},</p><p>Please act.</p>"}
    values.update(fields)
    return outbox.schedule(session, scheduled_at=when or utcnow() - timedelta(seconds=1), campaign_id=campaign_id,
                           actor="tests", **values)
