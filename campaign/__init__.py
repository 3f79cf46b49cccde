"""Cosign: the application (settings, database, web app, CLI) and the campaign domain."""
