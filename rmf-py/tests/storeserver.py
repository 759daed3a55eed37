"""Object stores for the tests, on loopback: moto's S3 server in its own process, and a proxy in
front of it that counts requests and bytes and injects faults (latency, 503/429, connection
resets, bodies cut short, a flipped byte)."""

from __future__ import annotations

import http.client
import http.server
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def s3_environ(url: str, key: str = "test") -> dict[str, str]:
    """The environment that points object_store's S3 client at the server at `url`, as a
    user's S3-compatible server is reached: endpoint, plain HTTP, keys and region."""
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": key,
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class Moto:
    """`python -m moto.server` on 127.0.0.1 and a free port, stopped by `close`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):  # up to 30 s for the server to answer
            if self.proc.poll() is not None:
                raise RuntimeError("moto server exited at start")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.close()
        raise RuntimeError("moto server did not start within 30 s")

    def create_bucket(self, name: str) -> None:
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("PUT", f"/{name}")
        r = c.getresponse()
        r.read()
        assert r.status in (200, 409), r.status

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class Faults:
    """What the proxy does to the next requests; each count is used up one request at a time."""

    status: int = 0
    """Answer this status (503, 429, ...) instead of forwarding ..."""
    status_times: int = 0
    """... this many times."""
    reset_times: int = 0
    """Close the connection without an answer this many times."""
    short_times: int = 0
    """Send a body one byte shorter than its Content-Length this many times."""
    flip_offset: int | None = None
    """File offset of a byte to flip in every ranged GET body that holds it."""
    flip_upload_times: int = 0
    """Flip the middle byte of the next uploaded bodies (PUT of an object or a part)."""
    only_method: str | None = None
    """Apply the status and reset faults to requests of this method only ("PUT", ...)."""
    latency_s: float = 0.0
    """Added before every answer."""
    hold: Hold | None = None
    """Hold the next GET until the test releases it (a call that waits on the network)."""


@dataclass
class Hold:
    """A GET the proxy holds: `reached` is set when it arrives, the answer goes out once
    `release` is set (or after 60 s, so that a failed test never hangs)."""

    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class Log:
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(method, path, Range header) of every request that reached the proxy."""
    body_bytes: int = 0
    """Bytes of GET bodies sent back."""

    def gets(self) -> int:
        return sum(1 for m, _, _ in self.requests if m == "GET")


class Proxy:
    """An HTTP proxy on 127.0.0.1 in front of `upstream` (host:port), in a thread."""

    def __init__(self, upstream_port: int) -> None:
        self.faults = Faults()
        self.log = Log()
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                rng = self.headers.get("Range")
                with proxy.lock:
                    proxy.log.requests.append((self.command, self.path, rng))
                    f = proxy.faults
                    latency = f.latency_s
                    fault = None
                    applies = f.only_method in (None, self.command)
                    if applies and f.reset_times > 0:
                        f.reset_times -= 1
                        fault = "reset"
                    elif applies and f.status_times > 0:
                        f.status_times -= 1
                        fault = "status"
                    status = f.status
                    hold = f.hold if self.command == "GET" else None
                    if hold is not None:
                        f.hold = None
                    if self.command == "PUT" and f.flip_upload_times > 0 and body:
                        f.flip_upload_times -= 1
                        flipped = bytearray(body)
                        flipped[len(body) // 2] ^= 0x40
                        body = bytes(flipped)
                if latency:
                    time.sleep(latency)
                if hold is not None:
                    hold.reached.set()
                    hold.release.wait(60)
                if fault == "reset":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if fault == "status":
                    msg = b"<Error><Code>SlowDown</Code></Error>"
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
                up = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                up.request(self.command, self.path, body=body, headers=headers)
                r = up.getresponse()
                data = r.read()
                up.close()
                with proxy.lock:
                    f = proxy.faults
                    short = False
                    if self.command == "GET" and f.short_times > 0 and len(data) > 1:
                        f.short_times -= 1
                        short = True
                    flip = f.flip_offset
                if self.command == "GET" and flip is not None and r.status == 206:
                    cr = r.getheader("Content-Range", "")  # bytes a-b/n
                    start = int(cr.split()[1].split("-")[0]) if cr else 0
                    if start <= flip < start + len(data):
                        b = bytearray(data)
                        b[flip - start] ^= 0x40
                        data = bytes(b)
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(k, v)
                # A HEAD answer has no body but the length of the object's.
                length = r.getheader("Content-Length", "0") if self.command == "HEAD" else len(data)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                if self.command != "HEAD":
                    sent = data[:-1] if short else data
                    self.wfile.write(sent)
                    with proxy.lock:
                        proxy.log.body_bytes += len(sent)
                if short:
                    self.close_connection = True

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def hold_next_get(self) -> Hold:
        """Holds the next GET that reaches the proxy; see `Hold`."""
        h = Hold()
        with self.lock:
            self.faults.hold = h
        return h

    def reset(self) -> None:
        with self.lock:
            self.faults = Faults()
            self.log = Log()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
