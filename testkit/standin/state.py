"""What the Slack stand-in knows and records: its workspaces, people, channels, messages, views,
files, faults and calls, and the table of the Web API methods it answers (testkit.standin)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from testkit.standin.files import _StoredFile
    from testkit.standin.server import _StandInHTTPServer
    from testkit.standin.websocket import _SocketConnection

from testkit.standin.records import (
    RecordedCall,
    ResponseUrlPost,
    StandInUser,
    _ChannelInfo,
    _Fault,
    _TokenBucket,
    _workspace_domain,
)


class StandInState:
    """The stand-in's state; every part of it (testkit.standin.core) works on this."""

    def __init__(
        self,
        *,
        team_id: str = "T0REBOUND",
        team_name: str = "Rebound Demo",
        bot_user_id: str = "U0REBOUNDBOT",
        bot_token: str = "xoxb-standin",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = _workspace_domain(team_name)
        # Workspaces an OAuth install can pick: oauth.v2.access with code "code-for-<team id>"
        # installs in that team, any other code in `team_id`. Tokens name their team.
        self.teams: dict[str, str] = {team_id: team_name}
        # Enterprise Grid: team id -> (enterprise id, enterprise name) for teams in an org.
        self.team_enterprises: dict[str, tuple[str, str]] = {}
        # Token rotation: installs then carry a refresh token, each usable once.
        self.token_rotation = False
        self.token_lifetime_seconds = 12 * 60 * 60
        self._refresh_tokens: dict[str, str] = {}  # unspent refresh token -> team id
        self.bot_user_id = bot_user_id
        self.bot_id = "B0REBOUND"
        self.app_id = "A0REBOUND"
        self.bot_token = bot_token
        self._host = host
        self._port = port
        self._lock = threading.RLock()
        self._server: _StandInHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.users: dict[str, StandInUser] = {
            bot_user_id: StandInUser(
                id=bot_user_id, name="rebound", real_name="Rebound", tz="UTC", is_bot=True
            )
        }
        self.channels: dict[str, str] = {}
        self.usergroups: dict[str, str] = {}  # user group id -> its @handle (without the @)
        self._channel_info: dict[str, _ChannelInfo] = {}
        # DMs between two people (not the app): the bot can't see them at all.
        self._people_dms: dict[str, tuple[str, str]] = {}
        self._response_posts: list[ResponseUrlPost] = []
        self._calls: list[RecordedCall] = []
        # trigger_id -> the calls that used it (views.open/push): a bench looks up thousands
        # of modals by trigger without scanning every recorded call each time.
        self._calls_by_trigger: dict[str, list[RecordedCall]] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._buckets: dict[str, _TokenBucket] = {}
        # The clock rate limits are measured on; a test may swap in its own (seconds).
        self.monotonic: Callable[[], float] = time.monotonic
        # conversations.history's page size limit: 15 for apps outside the Marketplace (the
        # changelog cited at rate_limit), 999 for Marketplace apps.
        self.history_max_limit = 15
        # (channel, ts) of every message chat.delete removed, in order.
        self.deleted_messages: list[tuple[str, str]] = []
        self._message_teams: dict[tuple[str, str], str] = {}
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._view_ids_by_external_id: dict[str, str] = {}
        self._home_view_ids: dict[str, str] = {}  # user id -> that user's Home tab view id
        self._files: dict[str, _StoredFile] = {}
        self._last_ts_micros = 0
        self._next_id = 1
        # Socket Mode: tickets handed out by apps.connections.open, live connections, acks.
        self._socket_changed = threading.Condition(self._lock)
        self._socket_tickets: set[str] = set()
        self._socket_connections: dict[int, _SocketConnection] = {}
        self._socket_acks: list[dict[str, Any]] = []
        self._next_socket_connection_id = 1
        self._stopping = False
        self._handlers: dict[str, Callable[[dict[str, Any], str | None], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.list": self._conversations_list,
            "conversations.join": self._conversations_join,
            "chat.postMessage": self._chat_post_message,
            "conversations.history": self._conversations_history,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.info": self._files_info,
            "oauth.v2.access": self._oauth_v2_access,
            "apps.connections.open": self._apps_connections_open,
        }

    def _new_id(self, prefix: str) -> str:
        number = self._next_id
        self._next_id += 1
        return f"{prefix}0{number:08X}"

    def _new_ts(self) -> str:
        """A unique, increasing message ts in Slack's "seconds.micros" form."""
        now_micros = int(time.time() * 1_000_000)
        self._last_ts_micros = max(now_micros, self._last_ts_micros + 100)
        seconds, micros = divmod(self._last_ts_micros, 1_000_000)
        return f"{seconds}.{micros:06d}"
