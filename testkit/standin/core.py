"""The Slack stand-in: its state (state), the Web API methods by family (auth, users,
conversations, chat, views, files), the HTTP serving (server), Socket Mode (socket_mode), and what a
test sets up (scenario) and reads back (recorded), put together; here starting and stopping it."""

from __future__ import annotations

import threading
from types import TracebackType

from testkit.standin.auth import AuthMethods
from testkit.standin.chat import ChatMethods
from testkit.standin.conversations import ConversationsMethods
from testkit.standin.files import FilesMethods
from testkit.standin.recorded import Recorded
from testkit.standin.scenario import Scenario
from testkit.standin.server import Serving, _StandInHTTPServer, _StandInRequestHandler
from testkit.standin.socket_mode import SocketMode
from testkit.standin.users import UsersMethods
from testkit.standin.views import ViewsMethods


class SlackStandIn(
    Scenario,
    Recorded,
    SocketMode,
    Serving,
    AuthMethods,
    UsersMethods,
    ConversationsMethods,
    ChatMethods,
    ViewsMethods,
    FilesMethods,
):
    """A local Slack Web API server that answers as Slack does and records every call."""

    def start(self) -> SlackStandIn:
        if self._server is not None:
            return self
        server = _StandInHTTPServer((self._host, self._port), _StandInRequestHandler)
        server.stand_in = self
        self._server = server
        self._stopping = False
        self._thread = threading.Thread(
            # A short poll interval keeps stop() fast; tests start and stop many servers.
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-stand-in",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        with self._lock:
            self._stopping = True
        # Stop listening first, so a Socket Mode client that reconnects on close finds no one.
        server.shutdown()
        server.server_close()
        self._close_socket_connections()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the stand-in is not started")
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def url(self) -> str:
        """Base URL for ``WebClient(base_url=...)``."""
        return f"{self.origin}/api/"
