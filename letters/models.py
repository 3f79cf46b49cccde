"""Templates, drafts, questions, signatories and responses (filled in by the letters work)."""
