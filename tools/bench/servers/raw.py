# Baseline for tools/bench/httpbench.py: the least an asyncio HTTP responder can do on this
# interpreter. One preallocated buffer per connection, find the end of the head, answer a
# fixed response, close when the request asks. No parsing, no routing, no limits.
# Usage: micropython raw.py PORT
import asyncio
import sys

import micropython

_RESP = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world\n"
_RESP_CLOSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
    b"Connection: close\r\n\r\nhello world\n"
)


async def conn(reader, writer):
    buf = bytearray(1024)
    mv = memoryview(buf)
    have = 0
    try:
        while True:
            n = await reader.readinto(mv[have:] if have else mv)
            if not n:
                break
            have += n
            end = buf.find(b"\r\n\r\n", 0, have)
            if end < 0:
                continue
            close = buf.find(b"lose\r\n", 0, end + 2) >= 0  # "Connection: close"
            if buf.startswith(b"GET /_mem "):  # the bench reads the heap counter
                b = b"%d\n" % micropython.mem_total()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(b) + b)
            else:
                writer.write(_RESP_CLOSE if close else _RESP)
            await writer.drain()
            if close:
                break
            have = 0
    except OSError:
        pass
    await writer.wait_closed()


async def main(port):
    await asyncio.start_server(conn, "127.0.0.1", port, backlog=64)
    print("ready", port)
    while True:
        await asyncio.sleep(3600)


asyncio.run(main(int(sys.argv[1])))
