"""`make bench`: every benchmark on SQLite and on PostgreSQL + Redis, then bench/RESULTS.md.

Each benchmark module offers ``run(backend, size, work_dir) -> (results, memory)`` and can be
run alone: ``python -m bench.<name> [--size N] [--backend sqlite|postgresql]``.
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
from pathlib import Path

from bench import common

BENCHMARKS = ["merge", "import_people", "directory", "send", "scan"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=BENCHMARKS, help="benchmarks to run")
    parser.add_argument("--backend", choices=common.BACKENDS, nargs="*", default=list(common.BACKENDS))
    parser.add_argument("--no-record", action="store_true", help="do not update bench/RESULTS.md")
    args = parser.parse_args()
    results: list[common.Result] = []
    memory_lines = []
    with tempfile.TemporaryDirectory(prefix="cosign-bench-") as work:
        for name in args.only:
            try:
                module = importlib.import_module(f"bench.{name}")
            except ModuleNotFoundError as missing:
                if missing.name != f"bench.{name}":
                    raise
                print(f"\n== {name}: not written yet ==", flush=True)
                continue
            for backend in args.backend:
                print(f"\n== {name} on {backend} ==", flush=True)
                found, memory = module.run(backend, module.DEFAULT_SIZE, Path(work))
                common.print_table(found, memory)
                results.extend(found)
                if memory:
                    peaks = ", ".join(f"{process} {mb:.0f} MB" for process, mb in memory.items())
                    memory_lines.append(f"- {name} on {backend}: peak RSS {peaks}")
    print("\n== all benchmarks ==")
    common.print_table(results)
    if not args.no_record:
        common.record(results, "Peak resident memory:\n" + "\n".join(memory_lines) if memory_lines else "")
        print(f"\nRecorded in {common.RESULTS}")


def standalone(module_name: str, default_size: int, run) -> None:
    """The command line of one benchmark module."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{module_name}")
    parser.add_argument("--size", type=int, default=default_size)
    parser.add_argument("--backend", choices=common.BACKENDS, nargs="*", default=list(common.BACKENDS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cosign-bench-") as work:
        for backend in args.backend:
            results, memory = run(backend, args.size, Path(work))
            common.print_table(results, memory)


if __name__ == "__main__":
    main()
