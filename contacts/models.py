"""People, organisations, memberships and stances (filled in by the contacts work)."""
