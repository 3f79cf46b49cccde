"""directory: a filtered page of the directory through the running web app, against a trivial endpoint.

Setup (not measured): N people (default 20,000) imported in bulk from the UK Commons Popolo
file repeated (bench/import_people.py; the copies share the chamber and the parties), a
stance for each on one ask, a staff user and an API token. ``campaign web`` (uvicorn) runs
as a subprocess on loopback with two web processes (WEB_CONCURRENCY, unless the environment
sets it); the peak RSS of each process is reported, since each must stay under the bar.

Cosign: 20 client threads, each on its own keep-alive connection (bench/loadgen.py: prebuilt
request bytes, so the client takes as little as it can of the two cores the server runs on),
ask for a page of 50 from GET /api/v1/people filtered by chamber + party + stance on the ask
+ a name search. Baseline, in the same run: GET /api/v1/me with the same token, same server,
same clients. Each side runs for a bounded number of requests and seconds after a warm-up;
every measured answer must be a 200 with the warm-up's body (parsed and checked once).

    python -m bench.directory [--size 20000] [--backend sqlite postgresql]
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import sqlalchemy as sa

from bench import common, loadgen
from bench.import_people import make_file
from bench.run_all import standalone

DEFAULT_SIZE = 20_000
CLIENTS = 20
WEB_PROCESSES = 2  # WEB_CONCURRENCY, as production runs it on a machine with two cores or more
MAX_REQUESTS = 3000
MAX_SECONDS = 15.0
WARM_UP = 40
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEARCH = "an"  # a name search that matches a good share of the names


def _setup(size: int, work_dir: Path) -> tuple[str, dict[str, object]]:
    """People, stances, a token; returns the token and the directory query."""
    from campaign.accounts import service as accounts
    from campaign.accounts.models import Role
    from campaign.db import session_scope, utcnow
    from campaign.models import Ask, Campaign
    from contacts.imports import import_file
    from contacts.models import Organization, Person, Position, Stance, StanceSource

    path = make_file(size, work_dir / f"directory-popolo-{size}.json", new_organizations=False)
    with session_scope() as session:
        import_file(session, path=path, actor="bench")
    with session_scope() as session:
        campaign = Campaign(slug="bench-directory", name="Directory benchmark")
        session.add(campaign)
        session.flush()
        ask = Ask(campaign_id=campaign.id, slug="sign", title="Sign the letter")
        session.add(ask)
        session.flush()
        rng = random.Random(3)
        positions = [p for p in Position if p is not Position.unknown]
        now = utcnow()
        ids = session.execute(sa.select(Person.id)).scalars().all()
        session.execute(sa.insert(Stance), [{"person_id": pid, "ask_id": ask.id, "position": rng.choice(positions),
                                             "source_kind": StanceSource.note, "source_note": "bench", "is_current": True,
                                             "recorded_at": now} for pid in ids])
        chamber = session.execute(sa.select(Organization.id).where(Organization.name == "House of Commons")).scalar_one()
        party = session.execute(sa.select(Organization.id).where(Organization.name == "Labour")).scalar_one()
        user = accounts.create_user(session, email="bench@example.org", role=Role.staff, password="bench-password-1")
        token = accounts.create_api_token(session, user=user, name="bench").secret
        query = {"chamber": chamber, "party": party, "ask_id": ask.id, "stance": "supportive,champion", "q": SEARCH,
                 "limit": 50}
    _analyze()
    return token, query


def _analyze() -> None:
    """Fresh planner statistics after the bulk load, as a production database has them after autovacuum."""
    from campaign.db import get_engine

    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(port: int, target: str, token: str, check: Callable[[bytes], None]) -> tuple[float, list[float]]:
    """CLIENTS threads hammering ``target``: requests/s and each request's latency in seconds."""
    load = loadgen.run("127.0.0.1", port, target, headers={"Authorization": f"Bearer {token}"}, clients=CLIENTS,
                       max_requests=MAX_REQUESTS, max_seconds=MAX_SECONDS, warm_up=WARM_UP, check=check)
    return load.requests_per_second, load.latencies


def _expect(check: Callable[[Any], bool]) -> Callable[[bytes], None]:
    """A warm-up check: the body is JSON and ``check`` holds for it."""
    def checked(body: bytes) -> None:
        if not check(json.loads(body)):
            raise RuntimeError(f"unexpected answer: {body[:200]!r}")
    return checked


def _web_memory(pid: int) -> dict[str, float]:
    """Peak RSS of the web process and of each process it started (uvicorn workers each count against the bar)."""
    peaks = common.tree_peak_rss_mb(pid)
    return {"web" if process == pid else f"web child {process}": megabytes for process, megabytes in peaks.items()}


def run(backend: str, size: int, work_dir: Path) -> tuple[list[common.Result], dict[str, float]]:
    from campaign import migrate

    with common.environment(backend, work_dir, "directory") as bench_env:
        env = {"WEB_CONCURRENCY": str(WEB_PROCESSES), **os.environ, **bench_env}
        if backend == "sqlite":
            for key in ("DATABASE_URL", "CELERY_BROKER_URL"):
                env.pop(key, None)
        Path(env["VAR_DIR"]).mkdir(parents=True)
        with common.applied(bench_env):
            from campaign.db import get_engine

            engine = get_engine()
            migrate.upgrade(engine=engine)
            token, query = _setup(size, work_dir)
            engine.dispose()
        port = _free_port()
        log = open(work_dir / f"directory-web-{backend}.log", "ab")
        web = subprocess.Popen([sys.executable, "-m", "campaign", "web", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        base = f"http://127.0.0.1:{port}/api/v1"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or web.poll() is not None:
                    raise RuntimeError("the web app did not start: "
                                       + (work_dir / f"directory-web-{backend}.log").read_text()[-2000:])
                time.sleep(0.2)
            page = httpx.get(f"{base}/people", params=query, headers={"Authorization": f"Bearer {token}"}).json()
            trivial_rps, trivial_latency = _load(port, "/api/v1/me", token,
                                                 _expect(lambda me: me["email"] == "bench@example.org"))
            directory_rps, directory_latency = _load(port, f"/api/v1/people?{urlencode(query)}", token,
                                                     _expect(lambda found: found == page))
            memory = _web_memory(web.pid)
        finally:
            if web.poll() is None:
                os.killpg(web.pid, signal.SIGTERM)
                try:
                    web.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(web.pid, signal.SIGKILL)
                    web.wait()
    p95 = common.percentile(directory_latency, 0.95) * 1000
    notes = (f"{size:,} people; filter matches {page['total']:,}, page of {len(page['items'])}; {CLIENTS} clients; "
             f"{env['WEB_CONCURRENCY']} web processes; "
             f"p95 latency {p95:.1f} ms (bar < 50 ms, goal < 20), p50 "
             f"{common.median(directory_latency) * 1000:.1f} ms; /me p95 "
             f"{common.percentile(trivial_latency, 0.95) * 1000:.1f} ms; "
             f"{len(directory_latency)} and {len(trivial_latency)} requests; "
             # Each client waits for its answer before asking again, so the mean latency is the
             # number of clients over the throughput (Little's law), whatever the server does.
             f"floor on the mean latency at this throughput {CLIENTS / directory_rps * 1000:.0f} ms, "
             f"p95 < 50 ms needs at least {CLIENTS / 0.05:.0f} r/s")
    result = common.Result("directory", backend, directory_rps, trivial_rps, "r/s", True, 0.3, 0.5, notes)
    print(f"    directory p95 {p95:.1f} ms: {'met' if p95 < 50 else 'NOT met'} (bar < 50 ms)", flush=True)
    return [result], memory


if __name__ == "__main__":
    standalone("directory", DEFAULT_SIZE, run)
