"""First run: the page that walks a new organisation's admin through setting Cosign up.

Four steps, each showing where things stand: the admin account (made by ``campaign
setup``), how mail leaves (settings come from the environment, so the page explains
rather than stores them), legislators (from the bundled public datasets or a file),
and a first campaign (the demo, or a blank one). Admin only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlmodel import Session, func, select

from campaign import demo
from campaign import service as campaign_service
from campaign.accounts import service as accounts_service
from campaign.accounts.models import Role, User
from campaign.deps import AdminUser, SessionDep
from campaign.errors import CosignError, FieldError, InvalidInput
from campaign.settings import PROJECT_ROOT, Settings, get_settings
from campaign.web import redirect, render
from contacts.imports import ImportFormat, import_file
from contacts.models import Person

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Dataset:
    key: str
    label: str
    description: str
    relative_path: str
    fmt: ImportFormat
    country: str
    licence: str

    def path(self) -> Path | None:
        for folder in data_folders():
            candidate = folder / self.relative_path
            if candidate.is_file():
                return candidate
        return None


DATASETS = (
    Dataset("uk-commons", "UK House of Commons", "650 current MPs with party, constituency and e-mail (June 2026).",
            "uk-commons/uk-commons-current-popolo.json", ImportFormat.popolo, "GB",
            "Open Parliament Licence v3.0"),
    Dataset("us-congress", "US Congress", "537 current senators and representatives (June 2026).",
            "us-congress/legislators-current.json", ImportFormat.us_congress, "US", "CC0 1.0"),
    Dataset("eu-parliament", "European Parliament", "718 MEPs of the 10th term (October 2024).",
            "eu-parliament/meps.json", ImportFormat.ep_meps, "",
            "Data from europarl.europa.eu; this copy comes from an AGPL repository, so it is read from the shared "
            "data folder and not shipped: in production, download meps.json from the Parliament and upload it"),
)


def data_folders() -> list[Path]:
    """Where the legislator datasets are looked for: the configured folder, or in the product and then
    beside the checkout."""
    configured = get_settings().legislator_data_dir
    if configured is not None:
        return [configured]
    return [PROJECT_ROOT / "data", PROJECT_ROOT.parent / "shared" / "data"]


# --- what the page shows (services: a session and plain values, no HTTP) -----------------


@dataclass
class MailSettings:
    backend: str
    sender: str
    outbox_dir: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str
    smtp_password_set: bool


@dataclass
class FirstRunState:
    admins: list[User]
    user_count: int
    people_count: int
    campaigns: list
    mail: MailSettings
    datasets: list[tuple[Dataset, bool]]  # and whether its file is on this machine

    @property
    def demo_loaded(self) -> bool:
        return any(campaign.slug == demo.CAMPAIGN_SLUG for campaign in self.campaigns)


def mail_settings(settings: Settings) -> MailSettings:
    return MailSettings(backend=settings.mail_backend, sender=settings.mail_from, outbox_dir=str(settings.outbox_dir),
                        smtp_host=settings.smtp_host, smtp_port=settings.smtp_port,
                        smtp_security=settings.smtp_security, smtp_username=settings.smtp_username,
                        smtp_password_set=bool(settings.smtp_password and settings.smtp_password.get_secret_value()))


def first_run_state(session: Session) -> FirstRunState:
    users = accounts_service.list_users(session)
    return FirstRunState(
        admins=[user for user in users if user.role == Role.admin and user.is_active], user_count=len(users),
        people_count=session.exec(select(func.count()).select_from(Person)).one(),
        campaigns=campaign_service.list_campaigns(session), mail=mail_settings(get_settings()),
        datasets=[(dataset, dataset.path() is not None) for dataset in DATASETS])


def import_dataset(session: Session, *, key: str, actor):
    """Import one bundled dataset through the same all-or-nothing import as an uploaded file."""
    dataset = next((item for item in DATASETS if item.key == key), None)
    if dataset is None:
        raise InvalidInput("Choose one of the datasets listed.", errors=[FieldError("dataset", f"unknown: {key!r}")])
    path = dataset.path()
    if path is None:
        raise InvalidInput(f"The {dataset.label} file is not on this server (looked for {dataset.relative_path} "
                           f"under {', '.join(str(f) for f in data_folders())}).",
                           errors=[FieldError("dataset", "file not found")])
    return dataset, import_file(session, path=path, fmt=dataset.fmt, country=dataset.country, actor=actor)


# --- routes ----------------------------------------------------------------------------------

Choice = Annotated[str, Form(max_length=40)]


def _page(request: Request, session: Session, *, errors=None, status_code: int = 200):
    return render(request, "pages/first_run.html", {"state": first_run_state(session), "errors": errors or {}},
                  status_code=status_code)


@router.get("/first-run")
def first_run(request: Request, session: SessionDep, user: AdminUser):
    return _page(request, session)


@router.post("/first-run/import")
def first_run_import(request: Request, session: SessionDep, user: AdminUser, dataset: Choice = ""):
    try:
        with session.begin_nested():
            chosen, report = import_dataset(session, key=dataset, actor=user)
    except CosignError as error:
        return _page(request, session, errors={"dataset": error.detail}, status_code=error.status_code)
    return redirect("/first-run#legislators", f"Imported the {chosen.label}: {report.created} people added, "
                    f"{report.updated} updated, {report.unchanged} unchanged.", "success")


@router.post("/first-run/demo")
def first_run_demo(session: SessionDep, user: AdminUser):
    demo.load(session)
    return redirect(f"/campaigns/{demo.CAMPAIGN_SLUG}", "The demo campaign is loaded: look around, then start "
                    "your own from the Campaigns page.", "success")
