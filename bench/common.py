"""What every benchmark shares: a database per backend, timing, memory, the table and RESULTS.md.

Each benchmark measures Cosign and a baseline as close to the machine's limit as the
same machine allows, in the same run, because the machines are shared and noisy: the
ratio is the figure that means something, the absolute numbers are printed beside it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
PG_URL = os.environ.get("PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
BACKENDS = ("sqlite", "postgresql")


@dataclass
class Result:
    benchmark: str
    backend: str
    cosign: float
    baseline: float
    unit: str
    higher_is_better: bool
    bar: float
    goal: float
    notes: str = ""

    @property
    def ratio(self) -> float:
        """Cosign relative to the baseline: throughput ratio, or time ratio (lower is better)."""
        return self.cosign / self.baseline if self.baseline else float("nan")

    @property
    def met(self) -> bool:
        return self.ratio >= self.bar if self.higher_is_better else self.ratio <= self.bar

    def bar_text(self) -> str:
        sign = "≥" if self.higher_is_better else "≤"
        return f"{sign} {self.bar:g} (goal {sign} {self.goal:g})"


@contextlib.contextmanager
def environment(backend: str, work_dir: Path, name: str) -> Iterator[dict[str, str]]:
    """Settings for a throwaway Cosign on ``backend``: its own var/, database and queue. Yields env vars."""
    suffix = f"{name}_{secrets.token_hex(3)}"
    env = {"VAR_DIR": str(work_dir / f"var-{suffix}"), "CELERY_QUEUE": f"bench-{suffix}", "LOG_LEVEL": "WARNING",
           "SECRET_KEY": secrets.token_urlsafe(32)}
    database = None
    if backend == "postgresql":
        database = f"cosign_bench_{suffix}"
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
        env["DATABASE_URL"] = sa.engine.make_url(PG_URL).set(database=database).render_as_string(hide_password=False)
        env["CELERY_BROKER_URL"] = REDIS_URL
    try:
        yield env
    finally:
        if database:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


@contextlib.contextmanager
def applied(env: dict[str, str]) -> Iterator[None]:
    """Point this process's settings at ``env`` (for benchmarks that call services in-process)."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    from campaign.db import _engine_for
    from campaign.settings import get_settings

    get_settings.cache_clear()
    _engine_for.cache_clear()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        _engine_for.cache_clear()


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def best_of(action: Callable[[], object], repeat: int = 3) -> float:
    return min(timed(action) for _ in range(repeat))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def in_fresh_process(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a new interpreter, as a worker or a CLI command would run it.

    What the benchmark's own setup loaded (a bulk load, a parsed file, a baseline's
    prepared data) is then not in the memory figure that process reports.
    """
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def own_peak_rss_mb() -> float:
    """This process's peak resident memory, in MB.

    VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a process
    spawned from a large one would report its parent's peak.
    """
    return peak_rss_mb(os.getpid())


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a running process (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return float("nan")


def tree_peak_rss_mb(pid: int) -> dict[int, float]:
    """Peak memory of a process and each of its descendants (worker pool children included)."""
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    except FileNotFoundError:
        children = []
    for child in children:
        pids.extend(tree_peak_rss_mb(int(child)))
    return {p: peak_rss_mb(p) for p in pids}


def machine() -> str:
    return f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · {platform.machine()}"


def print_table(results: list[Result], memory: dict[str, float] | None = None) -> None:
    print(f"{'benchmark':<10} {'backend':<11} {'Cosign':>14} {'baseline':>14} {'ratio':>7}  {'bar':<20} met")
    for r in results:
        print(f"{r.benchmark:<10} {r.backend:<11} {r.cosign:>10.1f} {r.unit:<3} {r.baseline:>10.1f} {r.unit:<3} "
              f"{r.ratio:>7.2f}  {r.bar_text():<20} {'yes' if r.met else 'NO'}")
        if r.notes:
            print(f"    {r.notes}")
    for process, megabytes in (memory or {}).items():
        flag = "" if megabytes <= 150 else "  (over the 150 MB bar)"
        print(f"    peak RSS {process}: {megabytes:.0f} MB{flag}")
    sys.stdout.flush()


def record(results: list[Result], memory_notes: str = "") -> None:
    """Put this run's table at the top of bench/RESULTS.md, keeping earlier runs below it."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"## {stamp} — {machine()}", "",
             "| benchmark | backend | Cosign | baseline | ratio | bar | met |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        lines.append(f"| {r.benchmark} | {r.backend} | {r.cosign:.1f} {r.unit} | {r.baseline:.1f} {r.unit} | "
                     f"{r.ratio:.2f} | {r.bar_text()} | {'yes' if r.met else 'no'} |")
    notes = [f"- {r.benchmark} on {r.backend}: {r.notes}" for r in results if r.notes]
    if notes:
        lines += ["", *notes]
    if memory_notes:
        lines += ["", memory_notes]
    header = "# Benchmark results\n\nNewest run first; each table comes from one `make bench`.\n\n"
    earlier = RESULTS.read_text() if RESULTS.exists() else ""
    earlier = earlier[earlier.find("## "):] if "## " in earlier else ""
    RESULTS.write_text(header + "\n".join(lines) + "\n\n" + earlier)
