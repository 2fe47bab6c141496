"""A lean SMTP sink for the reminder benchmark, run in its own process.

It speaks the part of RFC 5321 that Python's smtplib (Django's SMTP backend) uses:
greeting, EHLO/HELO, MAIL, RCPT, DATA with dot-stuffed content ended by ``.``, RSET,
NOOP and QUIT, and counts each message it accepts. aiosmtpd, the sink the tests use,
spends about 0.6 ms of CPU per message on the same two cores the Celery workers run
on; a mail server in production is a separate machine. The benchmark reports the
figure with both sinks.

    python bench/smtp_sink.py PORT COUNT_FILE

The count is written to COUNT_FILE (atomically) at most every 50 ms and on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

accepted = 0


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global accepted
    writer.write(b"220 bench-sink ESMTP\r\n")
    while True:
        line = await reader.readline()
        if not line:
            break
        verb = line[:4].upper()
        if verb == b"DATA":
            writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            while (await reader.readline()) not in (b".\r\n", b""):
                pass
            accepted += 1
            writer.write(b"250 OK\r\n")
        elif verb == b"EHLO":
            writer.write(b"250-bench-sink\r\n250 8BITMIME\r\n")
        elif verb == b"QUIT":
            writer.write(b"221 Bye\r\n")
            break
        elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
            writer.write(b"250 OK\r\n")
        else:
            writer.write(b"502 Not implemented\r\n")
    writer.close()


async def main(port: int, count_file: Path) -> None:
    def save() -> None:
        tmp = count_file.with_suffix(".tmp")
        tmp.write_text(str(accepted))
        os.replace(tmp, count_file)

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    save()
    async with server:
        while not stop.is_set():
            save()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.05)
    save()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2])))
