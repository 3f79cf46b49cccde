from __future__ import annotations

from fastapi import APIRouter, Request

from campaign.deps import AnyUser
from campaign.web import render

router = APIRouter()


@router.get("/")
def home(request: Request, user: AnyUser):
    return render(request, "pages/home.html")


