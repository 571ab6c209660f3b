"""Running out of memory for real: the server answers what it can and keeps serving.

The demo app (host_tests/_demo_server.py) runs on the MicroPython unix port with a small heap;
POST /hog takes nearly all of it, then 16 clients connect at once. Whatever each gets (a 503,
a closed connection, or even an answer), the server must survive, and once /free gives the
memory back it serves normally again.
"""

import socket
import subprocess
import threading

from harness import ROOT, interpreter_command

APP = ROOT / "host_tests" / "_demo_server.py"


def _read(s):
    # One response (up to its Content-Length), or what came before the connection ended.
    data = b""
    while True:
        try:
            d = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            return data
        if not d:
            return data
        data += d
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:") and len(body) >= int(line[15:]):
                    return data


def _ask(port, raw, timeout=5):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        return _read(s)


def _post(port, path):
    return _ask(
        port,
        b"POST %s HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"
        % path.encode(),
    )


def _burst(port):
    """16 keep-alive clients at once; each holds its connection (and the server's memory for
    it) until all have had their answer. Returns what each got."""
    answers = [None] * 16
    together = threading.Barrier(16, timeout=10)

    def client(i):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
                answers[i] = _read(s)
                together.wait()
        except (OSError, threading.BrokenBarrierError) as e:
            answers[i] = answers[i] or repr(e).encode()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert all(a is not None for a in answers)
    return answers


def _ok(answers):
    return [a for a in answers if a.startswith(b"HTTP/1.1 200 ") and a.endswith(b"<p>hello</p>")]


def test_out_of_memory_answers_503_and_the_server_survives():
    argv, env = interpreter_command("micropython", APP, heap="256K")
    proc = subprocess.Popen(argv, env=env, cwd=str(ROOT), stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("port "), line
        port = int(line.split()[1])
        assert len(_ok(_burst(port))) == 16  # with its memory the server takes all 16
        assert b"hogged" in _post(port, "/hog")
        answers = _burst(port)
        refused = [a for a in answers if a.startswith(b"HTTP/1.1 503 ")]
        assert len(_ok(answers)) < 16 and refused, [a[:40] for a in answers]
        assert proc.poll() is None, "the server died"
        assert b"freed" in _post(port, "/free")
        assert len(_ok(_burst(port))) == 16
    finally:
        proc.kill()
        proc.wait(5)
