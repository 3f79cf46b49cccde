"""A lean HTTP/1.1 load generator for the web benchmarks, in the spirit of wrk.

The client runs on the same cores as the server it measures, so every millisecond of CPU
it spends per request is taken from the server. This client sends prebuilt request bytes
over one keep-alive socket per thread and reads the status line, the headers and a
Content-Length body, nothing more: about 5% of the machine's CPU during the directory
benchmark. (Against the httpx clients it replaced, the directory and /me figures moved
within the noise: the server, not the client, is the limit.) Each measured response must be
a 200 with the same body as the warm-up's (checked by the caller's ``check`` once, parsed
there), so a benchmark cannot be fast by failing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class LoadError(RuntimeError):
    pass


def request_bytes(host: str, port: int, target: str, headers: dict[str, str] | None = None) -> bytes:
    """A GET for ``target`` (path and query string), keep-alive, as bytes to send as they are."""
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}:{port}", "Accept: */*", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Connection:
    """One keep-alive connection; ``get`` sends the prebuilt request and returns (status, body)."""

    def __init__(self, host: str, port: int, request: bytes):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request = request
        self.buffer = b""

    def get(self) -> tuple[int, bytes]:
        self.sock.sendall(self.request)
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        while end < 0:
            buffer += self._recv()
            end = buffer.find(b"\r\n\r\n")
        head = buffer[:end]
        status = int(head[9:12])
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
                break
        if length is None:
            raise LoadError(f"a response without Content-Length: {head[:300]!r}")
        start = end + 4
        while len(buffer) < start + length:
            buffer += self._recv()
        self.buffer = buffer[start + length:]
        return status, buffer[start:start + length]

    def _recv(self) -> bytes:
        chunk = self.sock.recv(262144)
        if not chunk:
            raise LoadError("the server closed the connection")
        return chunk

    def close(self) -> None:
        self.sock.close()


@dataclass
class Load:
    requests_per_second: float
    latencies: list[float] = field(default_factory=list)


def run(host: str, port: int, target: str, *, headers: dict[str, str] | None = None, clients: int = 20,
        max_requests: int = 3000, max_seconds: float = 15.0, warm_up: int = 40,
        check: Callable[[bytes], None] | None = None) -> Load:
    """``clients`` threads, each on its own connection, asking for ``target`` until the budget is spent.

    After the warm-up (``warm_up`` requests in all, each body handed to ``check``), every
    measured response must be a 200 with the warm-up's body. Returns requests/s over the
    measured part and each request's latency in seconds.
    """
    request = request_bytes(host, port, target, headers)
    latencies: list[float] = []
    lock = threading.Lock()
    budget = [max_requests]
    failures: list[str] = []
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        connection = None
        try:
            connection = Connection(host, port, request)
            expected = None
            for _ in range(max(1, warm_up // clients)):
                status, expected = connection.get()
                if status != 200:
                    raise LoadError(f"{status} {expected[:200]!r}")
                if check is not None:
                    check(expected)
        except Exception as error:  # reported once the threads are done
            failures.append(f"warm-up: {error}")
            if connection is not None:
                connection.close()
            barrier.abort()
            return
        mine: list[float] = []
        try:
            barrier.wait()
            deadline = time.perf_counter() + max_seconds
            perf_counter = time.perf_counter
            while perf_counter() < deadline:
                with lock:
                    if budget[0] <= 0:
                        break
                    budget[0] -= 1
                began = perf_counter()
                status, body = connection.get()
                took = perf_counter() - began
                if status != 200 or body != expected:
                    failures.append(f"{status} {body[:200]!r}")
                    break
                mine.append(took)
        except threading.BrokenBarrierError:
            return
        except Exception as error:
            failures.append(repr(error))
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise LoadError(f"{target}: {failures[0]}")
    return Load(len(latencies) / elapsed, latencies)
