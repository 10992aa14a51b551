"""The stand-in's conversations.* methods, and which conversations the bot can see
(testkit.standin)."""

from __future__ import annotations

import base64
from typing import Any

from testkit.standin.records import SlackApiErrorAnswer, StandInUser, _ChannelInfo, _dm_channel_id
from testkit.standin.state import StandInState


class ConversationsMethods(StandInState):
    def _resolve_channel_id(self, channel: str) -> str:
        """A user id stands for the app's DM with that user (only chat.postMessage takes one:
        _known_channel)."""
        if channel.startswith("U") or channel.startswith("W"):
            return _dm_channel_id(channel)
        return channel

    def _known_channel(self, channel: Any, *, user_id_means_dm: bool = False) -> str:
        if not isinstance(channel, str) or not channel:
            raise SlackApiErrorAnswer("channel_not_found")
        if channel[0] in "UW" and not user_id_means_dm:
            # Only chat.postMessage turns a user id into the app's DM with them (below); every
            # other conversations/chat method wants the conversation's own id (a D… for a DM,
            # from conversations.open: "You can then send a message to the conversation using
            # the chat.postMessage method", docs.slack.dev/reference/methods/conversations.open).
            raise SlackApiErrorAnswer("channel_not_found")
        channel_id = self._resolve_channel_id(channel)
        info = self._channel_info.get(channel_id)
        if info is not None and info.private and not info.bot_is_member:
            # A private channel is invisible to an app that isn't in it: Slack answers
            # channel_not_found, as for any id it can't see.
            raise SlackApiErrorAnswer("channel_not_found")
        if channel_id in self.channels or self._dm_user(channel_id) is not None:
            return channel_id
        raise SlackApiErrorAnswer("channel_not_found")

    def _visible_to_bot(self, channel_id: str) -> bool:
        info = self._channel_info.get(channel_id)
        return info is None or not info.private or info.bot_is_member

    def _dm_user(self, channel_id: str) -> StandInUser | None:
        if not channel_id.startswith("D"):
            return None
        for user in self.users.values():
            if _dm_channel_id(user.id) == channel_id:
                return user
        return None

    def _channel_object(self, channel_id: str) -> dict[str, Any]:
        dm_user = self._dm_user(channel_id)
        if dm_user is not None:
            return {
                "id": channel_id,
                "created": 1_700_000_000,
                "is_im": True,
                "is_org_shared": False,
                "user": dm_user.id,
                "is_open": True,
            }
        name = self.channels[channel_id]
        info = self._channel_info.get(channel_id) or _ChannelInfo()
        return {
            "id": channel_id,
            "name": name,
            "name_normalized": name,
            "created": 1_700_000_000,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": info.private,
            "is_archived": False,
            "is_general": False,
            "is_member": info.bot_is_member,
        }

    def _conversations_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel = params.get("channel")
        if channel:
            return {"channel": {"id": self._known_channel(channel)}}
        users = [user_id for user_id in str(params.get("users") or "").split(",") if user_id]
        if not users:
            raise SlackApiErrorAnswer("users_list_not_supplied")
        for user_id in users:
            self._known_user(user_id)
        if len(users) == 1:
            return {"channel": {"id": _dm_channel_id(users[0])}}
        # A group DM: stable for the same set of people.
        group_id = "G" + "".join(sorted(user_id.lstrip("UW") for user_id in users))[:20]
        self.channels.setdefault(group_id, "mpdm-" + "--".join(sorted(users)))
        return {"channel": {"id": group_id}}

    def _conversations_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {"channel": self._channel_object(self._known_channel(params.get("channel")))}

    def _conversations_list(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        return {
            "channels": [
                self._channel_object(channel_id)
                for channel_id in self.channels
                if self._visible_to_bot(channel_id)
            ],
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_join(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel_id = self._known_channel(params.get("channel"))
        info = self._channel_info.get(channel_id)
        if info is not None and not info.private:
            info.bot_is_member = True
        return {"channel": self._channel_object(channel_id)}

    def _conversations_history(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """Messages of one conversation, newest first, between ``oldest`` and ``latest``
        (exclusive unless ``inclusive``), ``limit`` a page (default and maximum 15 for apps
        outside the Marketplace), with ``has_more`` and ``response_metadata.next_cursor``.
        Message ``metadata`` is only returned when ``include_all_metadata`` is true
        (https://docs.slack.dev/reference/methods/conversations.history: "include_all_metadata:
        Return all metadata associated with this message"). A public channel the bot is not in
        answers not_in_channel, as Slack does for a bot token."""
        channel_id = self._known_channel(params.get("channel"))
        info = self._channel_info.get(channel_id)
        if info is not None and not info.bot_is_member:
            raise SlackApiErrorAnswer("not_in_channel")

        def number(name: str, default: float) -> float:
            try:
                return float(params.get(name) or default)
            except (TypeError, ValueError):
                raise SlackApiErrorAnswer("invalid_ts_" + name) from None

        oldest, latest = number("oldest", 0.0), number("latest", float("inf"))
        inclusive = str(params.get("inclusive", "")).lower() in ("1", "true")
        try:
            limit = int(params.get("limit") or self.history_max_limit)
        except (TypeError, ValueError):
            raise SlackApiErrorAnswer("invalid_limit") from None
        limit = max(1, min(limit, self.history_max_limit))
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        team = self._team_of_token(token)

        def within(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        found = sorted(
            (
                message
                for (channel, ts), message in self._messages.items()
                if channel == channel_id
                and self._message_teams.get((channel, ts), team) == team
                and within(float(ts))
            ),
            key=lambda message: float(message["ts"]),
            reverse=True,
        )
        try:
            start = int(base64.b64decode(str(params.get("cursor") or "")).decode() or 0)
        except ValueError:
            raise SlackApiErrorAnswer("invalid_cursor") from None
        page = found[start : start + limit]
        more = start + limit < len(found)
        messages = [
            message if with_metadata else {k: v for k, v in message.items() if k != "metadata"}
            for message in page
        ]
        cursor = base64.b64encode(str(start + limit).encode()).decode() if more else ""
        return {
            "messages": messages,
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }
