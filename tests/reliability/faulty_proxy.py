"""A TCP proxy on loopback that injects network faults between a client and a real server.

Real sockets and threads, no mocks: the client (s3fs, through aiohttp) talks HTTP to the proxy, which
forwards bytes to the real server (moto's S3 server) or misbehaves, as :attr:`FaultyProxy.mode` says:

``"pass"``
    Forward both ways.
``"drop"``
    Accept a connection and close it at once (the server seems to crash before answering).
``"hang"``
    Accept a connection and never read from it nor answer (a server that is up but stuck).
``"slow"``
    Forward both ways, but wait :attr:`FaultyProxy.delay` seconds before each piece of the answer.
``"cut"``
    Forward the first :attr:`FaultyProxy.cut_after` bytes of the request, then call
    :attr:`FaultyProxy.on_cut` (which may stop the server) and close both sides: a write interrupted
    half-way through its body.

:attr:`FaultyProxy.drop_next` drops that many next connections whatever the mode (an outage that ends).
:attr:`FaultyProxy.connections` counts accepted connections, so a test can count attempts (a failed
connection is never reused, so each retry opens a new one).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType


class FaultyProxy:
    """Forward ``127.0.0.1:<port>`` to ``upstream`` (host, port), with faults; see the module documentation."""

    def __init__(self, upstream: tuple[str, int] | None = None, mode: str = "pass") -> None:
        self.upstream = upstream
        self.mode = mode
        self.delay = 0.2
        self.cut_after = 0
        self.on_cut: Callable[[], None] | None = None
        #: Connections still to drop (as in mode "drop") before the mode applies again.
        self.drop_next = 0
        self.connections = 0
        self.cuts = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="faulty-proxy", daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        """The proxy's URL, for ``endpoint_url``."""
        return f"http://127.0.0.1:{self.port}"

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                dropping = self.drop_next > 0
                self.drop_next -= dropping
            mode = "drop" if dropping else self.mode
            if mode == "drop":
                client.close()
                continue
            self._keep(client)
            if mode == "hang":
                continue
            threading.Thread(target=self._serve, args=(client, mode), daemon=True).start()

    def _serve(self, client: socket.socket, mode: str) -> None:
        assert self.upstream is not None
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        self._keep(server)
        budget = self.cut_after if mode == "cut" else None
        threading.Thread(target=self._pump, args=(server, client, self.delay if mode == "slow" else 0.0, None),
                         daemon=True).start()
        self._pump(client, server, 0.0, budget)

    def _pump(self, source: socket.socket, target: socket.socket, delay: float, budget: int | None) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if budget is not None and len(data) >= budget:
                    target.sendall(data[:budget])
                    with self._lock:
                        self.cuts += 1
                    if self.on_cut is not None:
                        self.on_cut()
                    break
                if budget is not None:
                    budget -= len(data)
                if delay:
                    time.sleep(delay)
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def close_connections(self) -> None:
        """Close every open connection (a client's pooled connections included)."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        """Stop accepting and close every connection."""
        self._stopped.set()
        self._listener.close()
        self._thread.join(5)
        self.close_connections()

    def __enter__(self) -> FaultyProxy:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
