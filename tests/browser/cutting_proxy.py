"""A TCP proxy on loopback in front of the test server, which can cut the connections through it.

A phone that loses its network does not close its WebSocket: the connection just dies. Here the
browser talks to the site through the proxy, and the test resets every connection at once (TCP RST,
no WebSocket close frame), either on both sides (the server sees an unclean close) or on the
browser's side only while the proxy keeps the server's side open and quietly reads it (the server
still believes the old socket alive, as it does when the phone's packets vanish).

The proxy runs its own event loop in a thread, listens on 127.0.0.1 only, carries a bounded number
of connections and stops by itself after ``lifetime`` seconds if the test never stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from dataclasses import dataclass, field

# One WebSocket close frame from the server (unmasked, FIN + opcode 8), with its status code.
CLOSE_FRAME = 0x88


@dataclass
class Link:
    """One browser connection and the server connection it is spliced to."""

    browser: asyncio.StreamWriter
    server: asyncio.StreamWriter
    # Bytes the server sent after the browser's side was cut, while its side was held open.
    after_cut: bytearray = field(default_factory=bytearray)
    cut: bool = False


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset: no FIN, nothing left unsent is flushed."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class CuttingProxy:
    def __init__(self, upstream_port: int, lifetime: float = 300, max_connections: int = 200) -> None:
        self.upstream_port = upstream_port
        self.lifetime = lifetime
        self.max_connections = max_connections
        self.accepted = 0
        self.refusing = False
        self.links: list[Link] = []
        self.held: list[Link] = []  # server sides kept open after their browser side was cut
        self.port = 0
        self.error: BaseException | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="cutting-proxy", daemon=True)

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> CuttingProxy:
        self._thread.start()
        if not self._ready.wait(10) or not self.port:
            raise RuntimeError(f"the proxy did not start: {self.error!r}")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as error:  # reported by stop() and __enter__, never lost
            self.error = error
            self._ready.set()
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), self.lifetime)
        finally:
            server.close()
            for link in self.links:
                reset(link.browser)
                reset(link.server)
            current = asyncio.current_task()
            pending = [task for task in asyncio.all_tasks() if task is not current]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await server.wait_closed()

    async def _serve(self, browser_reader: asyncio.StreamReader, browser: asyncio.StreamWriter) -> None:
        if self.refusing or self.accepted >= self.max_connections:
            reset(browser)
            return
        self.accepted += 1
        try:
            server_reader, server = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            reset(browser)
            return
        link = Link(browser, server)
        self.links.append(link)
        # Cancelled when the proxy stops: the connections are reset by then, and that is all.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(
                self._pump(browser_reader, link, to_server=True),
                self._pump(server_reader, link, to_server=False),
            )

    async def _pump(self, reader: asyncio.StreamReader, link: Link, to_server: bool) -> None:
        target = link.server if to_server else link.browser
        try:
            while data := await reader.read(65536):
                if link.cut:
                    if not to_server:
                        link.after_cut.extend(data)
                    continue
                target.write(data)
                await target.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if not link.cut:
                # One side finished or failed: pass the end on as it came, and stop.
                with contextlib.suppress(OSError, RuntimeError):
                    target.close()

    def _call(self, function) -> None:
        done = threading.Event()

        def run() -> None:
            try:
                function()
            finally:
                done.set()

        self._loop.call_soon_threadsafe(run)
        if not done.wait(10):
            raise RuntimeError("the proxy's loop did not answer")

    def cut(self, keep_server_side: bool = False) -> None:
        """Reset every connection on the browser's side; on the server's too unless ``keep_server_side``."""

        def cut_all() -> None:
            for link in self.links:
                if link.cut:
                    continue
                link.cut = True
                reset(link.browser)
                if keep_server_side:
                    self.held.append(link)
                else:
                    reset(link.server)
            self.links = [link for link in self.links if not link.cut or link in self.held]

        self._call(cut_all)

    def refuse(self, refusing: bool) -> None:
        """While refusing, new connections are reset at once: no network at all."""
        self.refusing = refusing

    def close_codes_after_cut(self) -> list[int]:
        """Close codes of the WebSocket close frames the server sent on held connections after the cut."""
        codes: list[int] = []

        def read() -> None:
            for link in self.held:
                data = bytes(link.after_cut)
                for index in range(len(data) - 3):
                    if data[index] == CLOSE_FRAME and 2 <= data[index + 1] <= 125:
                        codes.append(int.from_bytes(data[index + 2 : index + 4], "big"))

        self._call(read)
        return codes

    def stop(self) -> None:
        if self._thread.is_alive() and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
            self._thread.join(10)
        if self.error is not None and not isinstance(self.error, asyncio.CancelledError):
            raise RuntimeError("the cutting proxy failed") from self.error
