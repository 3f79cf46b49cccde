"""The ASGI entry point for uvicorn: ``uvicorn campaign.asgi:app``."""

from campaign.app import create_app

app = create_app()
