"""The ``campaign`` command: database, users, tokens, and running the web app, worker and beat."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer

from campaign.settings import get_settings
from contacts.cli import import_app

app = typer.Typer(help="Cosign: parliamentary advocacy campaigns.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for scripts and automation.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(import_app, name="import")


def _fail(message: str, code: int = 1) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _run_service(action):
    """Run ``action(session)`` in one transaction; a domain error becomes a message and exit code 1."""
    from campaign.db import session_scope
    from campaign.errors import CosignError

    try:
        with session_scope() as session:
            return action(session)
    except CosignError as error:
        details = "".join(f"\n  {e.loc}: {e.msg}" for e in error.errors)
        _fail(f"{error.detail}{details}")


# --- database --------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from campaign import migrate

    migrate.upgrade(revision)
    typer.echo(f"Database at {migrate.current()}.")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION ('base' empties the database)."""
    from campaign import migrate

    migrate.downgrade(revision)
    typer.echo(f"Database at {migrate.current() or 'base'}.")


@db_app.command("current")
def db_current() -> None:
    from campaign import migrate

    typer.echo(migrate.current() or "base")


# --- users and tokens ------------------------------------------------------------


@users_app.command("create")
def users_create(email: str, role: str = typer.Option(..., help="admin, staff, coordinator or volunteer"),
                 password: str = typer.Option("", help="Generated and printed when not given."),
                 name: str = typer.Option("")) -> None:
    """Create a user account."""
    from campaign.accounts import service

    generated = not password
    password = password or service.generate_password()
    user = _run_service(lambda s: service.create_user(s, email=email, role=role, password=password, name=name,
                                                      actor="cli"))
    typer.echo(f"Created {user.email} ({user.role.value}).")
    if generated:
        typer.echo(f"Password (shown once): {password}")


@users_app.command("list")
def users_list() -> None:
    from campaign.accounts import service

    for user in _run_service(service.list_users):
        status = "active" if user.is_active else "disabled"
        typer.echo(f"{user.email}\t{user.role.value}\t{status}\t{user.name}")


@users_app.command("disable")
def users_disable(email: str) -> None:
    """Disable an account and end its sessions."""
    from campaign.accounts import service

    _run_service(lambda s: service.set_active(s, email=email, active=False, actor="cli"))
    typer.echo(f"Disabled {email}.")


@tokens_app.command("create")
def tokens_create(email: str, name: str = typer.Option("", help="What the token is for.")) -> None:
    """Create an API token for EMAIL; the token is printed alone on the last line."""
    from campaign.accounts import service

    def create(session):
        user = service.require_user_by_email(session, email=email)
        return service.create_api_token(session, user=user, name=name, actor="cli")

    created = _run_service(create)
    typer.echo(f"API token {created.record_id} for {email} (shown once):")
    typer.echo(created.secret)


@tokens_app.command("list")
def tokens_list(email: str) -> None:
    from campaign.accounts import service

    def listing(session):
        return service.list_api_tokens(session, user=service.require_user_by_email(session, email=email))

    for token in _run_service(listing):
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
        typer.echo(f"{token.id}\t{token.prefix}…\t{token.name}\t{state}")


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    from campaign.accounts import service

    _run_service(lambda s: service.revoke_api_token(s, token_id=token_id, actor="cli"))
    typer.echo(f"Revoked token {token_id}.")


# --- setting up and running --------------------------------------------------------


@app.command()
def demo() -> None:
    """Load the demo campaign (idempotent)."""
    from campaign import demo as demo_campaign

    typer.echo(_run_service(demo_campaign.load))


@app.command()
def setup() -> None:
    """Migrate the database, create the first admin if there is none, and load the demo campaign."""
    _setup()


def _setup() -> None:
    from campaign import demo as demo_campaign
    from campaign import migrate
    from campaign.accounts import service

    settings = get_settings()
    settings.signing_key()  # generated now, before several processes start and want it
    settings.outbox_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade()
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    admin, generated = _run_service(
        lambda s: service.ensure_first_admin(s, email=settings.admin_email, password=password))
    if generated:
        typer.secho(f"\nCreated the first admin: {admin.email}\nPassword (shown once, keep it): {generated}\n",
                    fg=typer.colors.GREEN, bold=True)
    typer.echo(_run_service(demo_campaign.load))


@app.command("backup")
def backup_command(target: str = typer.Argument(..., help="File to write (SQLite file or pg_dump archive).")) -> None:
    """Write a consistent copy of the whole database (safe while Cosign runs)."""
    from campaign import backup

    typer.echo(f"Backup written to {backup.backup(Path(target))}.")


@app.command("restore")
def restore_command(source: str, yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Replace the whole database with a backup. Stop the web app, worker and beat first."""
    from campaign import backup
    from campaign.errors import CosignError

    if not yes:
        typer.confirm("This replaces every row in the database with the backup. Continue?", abort=True)
    try:
        backup.restore(Path(source))
    except CosignError as error:
        _fail(error.detail)
    typer.echo(f"Restored the database from {source}.")


@app.command()
def health(max_beat_age: int = typer.Option(0, help="Also fail when beat's last heartbeat, run by a worker, "
                                                      "is older than this many seconds (0: do not check).")) -> None:
    """Check the database and the broker (and optionally beat + worker); exit 1 when unhealthy."""
    import json

    from campaign.health import report

    result = report()
    healthy = result["status"] == "ok"
    if max_beat_age and healthy:
        from datetime import datetime

        from campaign.db import utcnow

        last = result["last_beat_at"]
        age = (utcnow() - datetime.fromisoformat(last)).total_seconds() if last else None
        healthy = age is not None and age <= max_beat_age
        result["beat_heartbeat_age_seconds"] = age
    typer.echo(json.dumps(result))
    raise typer.Exit(0 if healthy else 1)


@app.command()
def web(host: str = typer.Option(None), port: int = typer.Option(None),
        workers: int = typer.Option(None, help="Web processes (default: WEB_CONCURRENCY).")) -> None:
    """Run the web app alone (uvicorn)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run("campaign.asgi:app", host=host or settings.host, port=port or settings.port,
                workers=workers or settings.web_concurrency, log_level=settings.log_level.lower(),
                proxy_headers=True)


@app.command()
def worker(concurrency: int = typer.Option(None, help="Worker processes (default: WORKER_CONCURRENCY).")) -> None:
    """Run a Celery worker."""
    from workers.celery_app import celery_app

    settings = get_settings()
    celery_app.worker_main(["worker", f"--loglevel={settings.log_level}", "--without-gossip", "--without-mingle",
                            f"--concurrency={concurrency or settings.worker_concurrency}",
                            f"--queues={settings.celery_queue}"])


@app.command()
def beat() -> None:
    """Run Celery beat, which wakes the periodic tasks."""
    from workers.celery_app import celery_app

    settings = get_settings()
    celery_app.start(["beat", f"--loglevel={settings.log_level}",
                      f"--schedule={settings.var_dir / 'celerybeat-schedule'}"])


@app.command()
def serve(host: str = typer.Option(None), port: int = typer.Option(None),
          skip_setup: bool = typer.Option(False, help="Do not migrate or create the first admin.")) -> None:
    """Set up, then run the web app, a worker and beat together until Ctrl-C."""
    settings = get_settings()
    if not skip_setup:
        _setup()
    host, port = host or settings.host, port or settings.port
    me = [sys.executable, "-m", "campaign"]
    commands = {"web": me + ["web", "--host", host, "--port", str(port)], "worker": me + ["worker"],
                "beat": me + ["beat"]}
    children: dict[str, subprocess.Popen] = {}
    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for name, command in commands.items():
        # Own process groups: Ctrl-C reaches only this parent, which stops children in order.
        children[name] = subprocess.Popen(command, start_new_session=True)
    typer.echo(f"Cosign is running on http://{host}:{port} (web pid {children['web'].pid}, "
               f"worker pid {children['worker'].pid}, beat pid {children['beat'].pid}). Ctrl-C stops it.")
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                typer.secho(f"{name} exited with code {child.returncode}; stopping Cosign.", fg=typer.colors.RED,
                            err=True)
                stopping, exit_code = True, 1
        time.sleep(0.2)
    _stop_children(children)
    raise typer.Exit(exit_code)


def _stop_children(children: dict, timeout: float = 15.0) -> None:
    for child in children.values():
        if child.poll() is None:
            child.terminate()  # the worker's main process stops its own pool children
    deadline = time.monotonic() + timeout
    for child in children.values():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def main() -> None:
    app()
