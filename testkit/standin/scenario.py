"""How a test sets the scene in the stand-in: people, channels, DMs, user groups and teams, and
the faults and rate limits it answers with (testkit.standin)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from testkit.standin.records import StandInUser, _ChannelInfo, _Fault, _TokenBucket
from testkit.standin.state import StandInState


class Scenario(StandInState):
    def add_user(self, user: StandInUser) -> None:
        try:
            ZoneInfo(user.tz)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown timezone {user.tz!r} for user {user.id}") from error
        with self._lock:
            self.users[user.id] = user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        private: bool = False,
        members: set[str] | frozenset[str] | None = None,
        bot_is_member: bool = True,
    ) -> None:
        """A public channel everyone is in by default; or `private` with its `members`, with or
        without the bot. Membership decides who chat.postEphemeral can reach there."""
        with self._lock:
            self.channels[channel_id] = name
            self._channel_info[channel_id] = _ChannelInfo(
                private=private,
                members=frozenset(members) if members is not None else None,
                bot_is_member=bot_is_member,
            )

    def add_dm_between(self, channel_id: str, user_id: str, other_user_id: str) -> None:
        """A DM between two people, the app not in it: a slash command typed there carries
        this channel id, but no Web API method can see or post to it."""
        if not channel_id.startswith("D"):
            raise ValueError("DM channel ids start with D")
        with self._lock:
            self._people_dms[channel_id] = (user_id, other_user_id)

    # The simulator's Directory: how Slack resolves a typed @name or #channel when it escapes
    # a slash command's text (testkit.simulator.command_text_as_sent).
    def user_id_named(self, name: str) -> str | None:
        with self._lock:
            return next((u.id for u in self.users.values() if u.name == name), None)

    def channel_id_named(self, name: str) -> str | None:
        with self._lock:
            return next((cid for cid, cname in self.channels.items() if cname == name), None)

    def usergroup_id_named(self, handle: str) -> str | None:
        with self._lock:
            return next((gid for gid, h in self.usergroups.items() if h == handle), None)

    def add_usergroup(self, usergroup_id: str, handle: str) -> None:
        with self._lock:
            self.usergroups[usergroup_id] = handle

    def add_team(
        self,
        team_id: str,
        name: str,
        *,
        enterprise_id: str | None = None,
        enterprise_name: str = "",
    ) -> None:
        """A workspace an OAuth install can pick; with `enterprise_id`, a workspace of that
        Enterprise Grid org (the app is then installed on the workspace, not the whole org)."""
        with self._lock:
            self.teams[team_id] = name
            if enterprise_id:
                self.team_enterprises[team_id] = (enterprise_id, enterprise_name or enterprise_id)
            else:
                self.team_enterprises.pop(team_id, None)

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        error: str | None = None,
        to: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP ``status`` (429 or 5xx), or,
        with ``error``, HTTP 200 and ``{"ok": false, "error": error}`` (a definite refusal
        such as internal_error, which Slack's method pages list among their errors). With
        ``to``, only calls addressed to that user's DM (or that channel) meet it."""
        with self._lock:
            self._faults.setdefault(method, []).append(
                _Fault(
                    status=200 if error else status,
                    retry_after=retry_after,
                    remaining=times,
                    error=error,
                    to=to,
                )
            )

    def accept_then_fail(self, method: str, *, status: int = 502, times: int = 1) -> None:
        """The next ``times`` calls to ``method`` do what they ask (a message is posted), then
        are answered HTTP ``status``: Slack's edge may fail after Slack acted, and the client
        cannot tell this from a failure before it."""
        with self._lock:
            self._faults.setdefault(method, []).append(
                _Fault(status=status, retry_after=0, remaining=times, mode="accept")
            )

    def accept_then_hang(self, method: str, *, seconds: float, times: int = 1) -> None:
        """The next ``times`` calls to ``method`` do what they ask, then answer only after
        ``seconds`` (make it longer than the client's timeout: the client gives up first)."""
        with self._lock:
            self._faults.setdefault(method, []).append(
                _Fault(
                    status=200, retry_after=0, remaining=times, mode="hang", hang_seconds=seconds
                )
            )

    def rate_limit(
        self, method: str, per_second: float | None = None, *, per_minute: float | None = None
    ) -> None:
        """Allow ``method`` at most ``per_second`` (or ``per_minute``) calls (token bucket, on
        ``self.monotonic``), else 429 with Retry-After. conversations.history for apps outside
        the Marketplace is 1 a minute (https://docs.slack.dev/changelog/2025/05/29/
        rate-limit-changes-for-non-marketplace-apps/): ``rate_limit(method, per_minute=1)``."""
        rate = per_second if per_second is not None else (per_minute or 0) / 60.0
        if rate <= 0:
            raise ValueError("the rate must be positive")
        with self._lock:
            self._buckets[method] = _TokenBucket(
                per_second=rate, tokens=max(1.0, rate), refilled_at=self.monotonic()
            )
