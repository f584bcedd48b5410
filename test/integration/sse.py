"""A small Server-Sent Events client for the tests (raw sockets, no dependencies).

It speaks HTTP/1.1 with chunked transfer decoding, like a browser's
EventSource, and collects events in a background thread.
"""
import socket
import threading
import time


class SSEClient:
    def __init__(self, base, path, headers=None, rcvbuf=None, read=True):
        host, port = base.replace("http://", "").split(":")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect((host, int(port)))
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: text/event-stream"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.events = []          # (id or None, type, data)
        self.comments = 0
        self.closed = False
        self.status = None
        self.cond = threading.Condition()
        self.thread = None
        if read:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()

    def _run(self):
        buf = b""
        headers_done = False
        body = b""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                buf += data
                if not headers_done:
                    if b"\r\n\r\n" not in buf:
                        continue
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    self.status = int(head.split(b" ")[1])
                    headers_done = True
                # chunked decoding
                while True:
                    if b"\r\n" not in buf:
                        break
                    size_line, rest = buf.split(b"\r\n", 1)
                    size = int(size_line.split(b";")[0], 16)
                    if len(rest) < size + 2:
                        break
                    body += rest[:size]
                    buf = rest[size + 2:]
                    if size == 0:
                        raise EOFError
                self._parse(body)
                body = body[body.rfind(b"\n\n") + 2:] if b"\n\n" in body else body
        except (EOFError, OSError):
            pass
        finally:
            with self.cond:
                self.closed = True
                self.cond.notify_all()

    def _parse(self, body):
        text = body.decode()
        blocks = text.split("\n\n")
        for block in blocks[:-1]:
            eid, etype, data = None, "message", []
            comments = 0
            for line in block.split("\n"):
                if line.startswith(":"):
                    comments += 1
                    continue
                if line.startswith("id: "):
                    eid = int(line[4:])
                elif line.startswith("event: "):
                    etype = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
            with self.cond:
                self.comments += comments
                if data or etype != "message":
                    self.events.append((eid, etype, "\n".join(data)))
                self.cond.notify_all()

    def wait_for(self, pred, timeout=10):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred(self.events):
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return pred(self.events)
                self.cond.wait(left)
            return True

    def wait_count(self, n, timeout=10):
        return self.wait_for(lambda ev: len([e for e in ev if e[0] is not None]) >= n, timeout)

    def wait_connected(self, timeout=10):
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.comments == 0 and not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
        return self.comments > 0

    def ids(self):
        with self.cond:
            return [e[0] for e in self.events if e[0] is not None]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
