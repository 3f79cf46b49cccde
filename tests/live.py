"""Cosign run as a user runs it: `campaign serve` in its own processes, on its own database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests import services

ADMIN_EMAIL = "admin@example.org"
ADMIN_PASSWORD = "live server admin password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveCosign:
    base_url: str
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path
    cleanup: list = field(default_factory=list)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a `campaign` command against this instance's database."""
        result = subprocess.run([sys.executable, "-m", "campaign", *args], env=self.env, capture_output=True,
                                text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"campaign {' '.join(args)} failed: {result.stdout}\n{result.stderr}")
        return result

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # what Ctrl-C does
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for action in self.cleanup:
            action()
        return self.process.returncode


def environment(work_dir: Path, name: str, **extra: str) -> tuple[dict[str, str], list]:
    """Settings for a separate Cosign instance: its own var/, database and queue."""
    env = {key: value for key, value in os.environ.items()}
    env.update({"VAR_DIR": str(work_dir / f"{name}-var"), "CELERY_QUEUE": f"{os.environ['CELERY_QUEUE']}-{name}",
                "ADMIN_EMAIL": ADMIN_EMAIL, "ADMIN_PASSWORD": ADMIN_PASSWORD, "LOG_LEVEL": "INFO"})
    cleanup = []
    run_url = os.environ.get("DATABASE_URL", "")
    if run_url:
        url = services.create_database_like(run_url, name)
        env["DATABASE_URL"] = url
        cleanup.append(lambda: services.drop_database(run_url, url))
    env.update(extra)
    return env, cleanup


def start(work_dir: Path, name: str = "live", timeout: float = 90.0, **extra: str) -> LiveCosign:
    port = free_port()
    env, cleanup = environment(work_dir, name, **{"BASE_URL": f"http://127.0.0.1:{port}", **extra})
    log_path = work_dir / f"{name}-serve.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "campaign", "serve", "--port", str(port)], env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    live = LiveCosign(f"http://127.0.0.1:{port}", env, process, log_path, cleanup)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"campaign serve exited with {process.returncode}:\n{live.log()}")
        try:
            if httpx.get(f"{live.base_url}/healthz", timeout=2).status_code == 200:
                return live
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    live.stop()
    raise AssertionError(f"campaign serve did not answer /healthz within {timeout} s:\n{live.log()}")
