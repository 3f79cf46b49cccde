"""The tests' SMTP sink in a process of its own, writing one line per accepted message.

A separate process, as a real mail server would be, so neither the baseline's client nor
the benchmark's own polling shares an interpreter lock with it. Each line of the log is
``<unix time of acceptance> <Message-ID>``.

    python -m bench.sink LOG      (prints "ready PORT" once it listens)
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from tests.workers.smtp_sink import SmtpSink


class LoggingSink(SmtpSink):
    def __init__(self, log: Path):
        super().__init__()
        self._log = log.open("a", buffering=1)

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            self._log.write(f"{time.time():.6f} {self.received[-1].message_id}\n")
            self.received.clear()  # the log is the record; memory stays flat
        return answer


def main() -> None:
    sink = LoggingSink(Path(sys.argv[1])).start()
    print(f"ready {sink.port}", flush=True)
    try:
        threading.Event().wait()
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
