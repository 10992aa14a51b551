"""The stand-in's chat.* methods and the messages they store (testkit.standin)."""

from __future__ import annotations

from typing import Any

from testkit.standin.blockkit import MAX_MESSAGE_BLOCKS, MAX_MESSAGE_TEXT, BlockKitChecker
from testkit.standin.records import SlackApiErrorAnswer
from testkit.standin.state import StandInState

_MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral")


class ChatMethods(StandInState):
    def _message_object(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": params.get("text") or "",
            "ts": ts,
        }
        for name in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(name) is not None:
                message[name] = params[name]
        return message

    def _permalink(self, channel_id: str, ts: str) -> str:
        return f"https://{self.team_domain}.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"

    @staticmethod
    def _validate_message_content(params: dict[str, Any]) -> None:
        text, blocks = params.get("text"), params.get("blocks")
        attachments = params.get("attachments")
        if not text and not blocks and not attachments:
            raise SlackApiErrorAnswer("no_text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            raise SlackApiErrorAnswer("msg_too_long")
        if blocks is None:
            return
        if isinstance(blocks, str) or not isinstance(blocks, list):
            raise SlackApiErrorAnswer("invalid_blocks_format")
        checker = BlockKitChecker()
        checker.check_blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
        if checker.problems:
            raise SlackApiErrorAnswer(
                "invalid_blocks", {"response_metadata": {"messages": checker.problems}}
            )

    def _chat_post_message(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        # A user id as `channel` posts to the app's DM with that user, opening it if need be:
        # "provide the user's ID as the channel value and a direct message conversation will be
        # opened if it isn't open already" (docs.slack.dev/reference/methods/chat.postMessage,
        # "Channels"). The answer's `channel` is the DM's own id (D…).
        channel_id = self._known_channel(params.get("channel"), user_id_means_dm=True)
        self._validate_message_content(params)
        ts = self._new_ts()
        message = self._message_object(params, ts)
        self._messages[(channel_id, ts)] = message
        self._message_teams[(channel_id, ts)] = self._team_of_token(token)
        return {"channel": channel_id, "ts": ts, "message": message}

    def _chat_post_ephemeral(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        # Errors as https://docs.slack.dev/reference/methods/chat.postEphemeral/ lists them:
        # channel_not_found ("Value passed for channel was invalid": a DM between two other
        # people, or a private channel the app isn't in, which it cannot see), not_in_channel
        # ("Cannot post user messages to a channel they are not in": the app isn't in it) and
        # user_not_in_channel ("Intended recipient is not in the specified channel").
        channel_id = self._known_channel(params.get("channel"))
        user = self._known_user(params.get("user"))
        info = self._channel_info.get(channel_id)
        if info is not None and not info.bot_is_member:
            raise SlackApiErrorAnswer("not_in_channel")
        if info is not None and info.members is not None and user.id not in info.members:
            raise SlackApiErrorAnswer("user_not_in_channel")
        dm_user = self._dm_user(channel_id)
        if dm_user is not None and dm_user.id != user.id:
            raise SlackApiErrorAnswer("user_not_in_channel")  # the app's DM with someone else
        self._validate_message_content(params)
        return {"message_ts": self._new_ts()}

    def _chat_update(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """chat.update as https://docs.slack.dev/reference/methods/chat.update documents it:
        "Only messages posted by the authenticated user are able to be updated using this
        method ... Bot users may also update the messages they post. Attempting to update other
        message types will return a cant_update_message error"; message_not_found when "No
        message exists with the requested timestamp" (a deleted one too)."""
        channel_id = self._known_channel(params.get("channel"))
        ts = params.get("ts")
        stored = self._messages.get((channel_id, str(ts)))
        if stored is None:
            raise SlackApiErrorAnswer("message_not_found")
        if stored.get("bot_id") != self.bot_id:
            raise SlackApiErrorAnswer("cant_update_message")
        self._validate_message_content(params)
        updated = {**stored, **self._message_object(params, str(ts))}
        updated["edited"] = {"user": self.bot_user_id, "ts": self._new_ts()}
        self._messages[(channel_id, str(ts))] = updated
        return {"channel": channel_id, "ts": ts, "text": updated["text"], "message": updated}

    def _chat_delete(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """chat.delete as https://docs.slack.dev/reference/methods/chat.delete documents it:
        ``channel`` and ``ts`` are required; "When used with a bot token, this method may delete
        only messages posted by that bot" (cant_delete_message otherwise); channel_not_found
        for a channel that isn't valid, message_not_found when "no message exists with the
        requested timestamp" (so a second delete of one message answers that); the answer
        carries the channel and ts: {"ok": true, "channel": …, "ts": …}."""
        channel_id = self._known_channel(params.get("channel"))
        ts = params.get("ts")
        if not ts:
            raise SlackApiErrorAnswer("invalid_arguments")
        stored = self._messages.get((channel_id, str(ts)))
        if stored is None:
            raise SlackApiErrorAnswer("message_not_found")
        if stored.get("bot_id") != self.bot_id:
            raise SlackApiErrorAnswer("cant_delete_message")
        del self._messages[(channel_id, str(ts))]
        self.deleted_messages.append((channel_id, str(ts)))
        return {"channel": channel_id, "ts": str(ts)}

    def _chat_get_permalink(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        channel_id = self._known_channel(params.get("channel"))
        ts = str(params.get("message_ts") or "")
        if (channel_id, ts) not in self._messages:
            raise SlackApiErrorAnswer("message_not_found")
        return {"channel": channel_id, "permalink": self._permalink(channel_id, ts)}
