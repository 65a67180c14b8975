"""uvicorn's HTTP/1.1 protocol (httptools), writing a response's head and first body part to the
socket in one write: one system call and one TCP segment per small response instead of two.

uvicorn writes the status line and headers when the application sends
``http.response.start``, and the body when it sends ``http.response.body``. Here the head is
held until the first body message (or any other message) and written with it. Nothing else
changes: the bytes on the wire are the same.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle


class _Held:
    """Collects what uvicorn writes for the head, instead of the socket."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(data)


class _Prefixed:
    """The transport, with the held head written before (with) the first write."""

    def __init__(self, transport: Any, head: bytes) -> None:
        self._transport = transport
        self.head: bytes | None = head

    def write(self, data: bytes) -> None:
        head, self.head = self.head, None
        self._transport.write(data if head is None else head + data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def flush(self) -> None:
        head, self.head = self.head, None
        if head is not None:
            self._transport.write(head)


class OneWriteCycle(RequestResponseCycle):
    """A request's cycle whose response head goes out with its body."""

    _head: bytes | None = None

    async def send(self, message: Any) -> None:
        transport = self.transport
        if not self.response_started and message["type"] == "http.response.start":
            held = _Held()
            self.transport = held  # type: ignore[assignment]
            try:
                await super().send(message)
            finally:
                self.transport = transport
            if held.parts:
                self._head = b"".join(held.parts)
            return
        head, self._head = self._head, None
        if head is None:
            await super().send(message)
            return
        prefixed = _Prefixed(transport, head)
        self.transport = prefixed  # type: ignore[assignment]
        try:
            await super().send(message)
        finally:
            self.transport = transport
            if not self.disconnected:  # nothing was written (a HEAD request): the head alone
                prefixed.flush()


class OneWriteProtocol(HttpToolsProtocol):
    """``uvicorn.run(app, http=OneWriteProtocol)``: every request's cycle is a
    ``OneWriteCycle``."""

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        if type(cycle) is RequestResponseCycle:
            cycle.__class__ = OneWriteCycle  # made by uvicorn; the same object, one method more
        super()._start_asgi_task(cycle, app)
