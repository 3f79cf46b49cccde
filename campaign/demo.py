"""The demo campaign, built from the facts of the seed documents.

The campaign domain (issue 5) fills this in; until then ``campaign demo`` reports that
there is nothing to load, and start-up calls it all the same so nothing changes later.
"""

from __future__ import annotations

from sqlmodel import Session


def load(session: Session) -> str:
    """Load the demo campaign if it is not there yet; running it twice changes nothing."""
    return "The demo campaign is not part of this version yet; nothing to load."
