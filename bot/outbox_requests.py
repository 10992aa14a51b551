"""The request each outbox row is sent with, by method: chat.postMessage (its post key in
the message's metadata), chat.update and chat.delete of a message already sent, an upload's
three steps, any other method as its payload says. Everything that can fail before a request
leaves is done first (Requests._prepare). A mixin of bot.dispatcher.Dispatcher."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.outbox_results import DELETE_METHOD, UPDATE_METHOD
from bot.outbox_targets import Targets
from bot.post_metadata import Unrenderable, with_post_key
from bot.uploads import UPLOAD_METHOD, message_renderer_for, renderer_for, upload_arguments
from storage import outbox_queries
from storage.models import OutboxMessage

# What a prepared request does: one call into slack-sdk, nothing else (Requests._prepare).
SlackRequest = Callable[[WebClient], Any]


class NothingShared(Exception):
    """An upload that failed before its share was asked for (files.completeUploadExternal):
    Slack shows nothing, so it is a definite failure to send, tried again after a backoff."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _post_file_bytes(url: str, data: bytes, timeout: float) -> None:
    """An upload's second step: the bytes, POSTed to the URL files.getUploadURLExternal gave;
    anything but 200 means the file is not there."""
    request = urllib.request.Request(url, data=data, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        if answer.status != 200:
            raise NothingShared(f"upload_http_{answer.status}")


class Requests(Targets):
    """Building and making each row's request. The state is the dispatcher's."""

    def _prepare(self, row: OutboxMessage, channel: str | None) -> SlackRequest:
        """Everything that can fail before a request leaves, done first: the message or the
        files rendered, the arguments built and checked to encode as JSON. What it returns only
        calls slack-sdk, so anything that call raises may have come after the request left
        (_after_exception) and anything raised here came before."""
        payload = dict(row.payload)
        if row.method == DELETE_METHOD:
            # chat.delete takes the channel and the ts of the message to delete (required
            # arguments, https://docs.slack.dev/reference/methods/chat.delete): the ones Slack
            # answered when the post was sent, recorded on its row.
            arguments = {"channel": channel, "ts": self._sent_post(row).sent_ts}
            json.dumps(arguments)
            return lambda client: client.chat_delete(**arguments)
        if row.method == UPDATE_METHOD and (
            row.target_kind == "sent_post" or "renderer" in payload
        ):
            return self._prepare_update(row, channel, payload)
        if row.method == "chat.postMessage":
            if "renderer" in payload:
                payload = self._render_message(row)
            # The channel last: the one resolved for the row, whatever a payload says.
            arguments = {**with_post_key(payload, row.post_key, row.team_id), "channel": channel}
            json.dumps(arguments)  # a body that won't encode fails here, not inside slack-sdk
            return lambda client: client.chat_postMessage(**arguments)
        if row.method == UPLOAD_METHOD:
            assert channel is not None
            return self._prepare_upload(row, channel)
        if channel is not None and row.target_kind != "user":
            payload.setdefault("channel", channel)
        json.dumps(payload)
        return lambda client: client.api_call(row.method, json=payload)

    def _prepare_update(
        self, row: OutboxMessage, channel: str | None, payload: dict[str, Any]
    ) -> SlackRequest:
        """A chat.update of a message the bot sent: the one another row was sent as (target
        "sent_post": its channel and ts as Slack answered them), or the payload's ts. A message
        made when it is sent (a rep's correction: the outcome as it is then) is rendered now.

        chat.update "updates a message in a channel"; "Bot users may also update the messages
        they post", and "To remove previous blocks, include an empty array for the blocks
        field" — so a message is always sent whole, with its blocks
        (https://docs.slack.dev/reference/methods/chat.update). The message's metadata (its
        post key) is left as it was: "If you don't include this field, the message's previous
        metadata will be retained" (the same page)."""
        ts = self._sent_post(row).sent_ts if row.target_kind == "sent_post" else payload.get("ts")
        message = self._render_message(row) if "renderer" in payload else payload
        arguments = {
            **{k: v for k, v in message.items() if k not in ("channel", "ts")},
            "blocks": list(message.get("blocks") or []),
            "channel": channel,
            "ts": ts,
        }
        json.dumps(arguments)
        return lambda client: client.api_call(UPDATE_METHOD, json=arguments)

    def _render_message(self, row: OutboxMessage) -> dict[str, Any]:
        """A message made when it is sent (bot.uploads.register_message_renderer)."""
        render = message_renderer_for(row.payload)
        if render is None:
            raise Unrenderable(f"no_renderer:{row.payload.get('renderer')}")
        with self.uow() as uow:
            return render(uow.session, row.team_id, row.payload, uow.now())

    def _prepare_upload(self, row: OutboxMessage, channel: str) -> SlackRequest:
        """A files.uploadV2 row (bot.uploads): the files are made now from the row's payload,
        then (by what this returns) uploaded in the three steps Slack documents
        (files.getUploadURLExternal, the bytes to that URL, files.completeUploadExternal sharing
        them in `channel` with the comment:
        https://docs.slack.dev/messaging/working-with-files#uploading_files).

        A failure of the first two steps makes the whole upload go again later (new file ids):
        nothing is shown to anyone until completeUploadExternal shares it, and an uploaded file
        nobody completes is discarded by Slack. Before the share is asked for, the attempt's
        first file id is recorded on the row; when the share's answer is lost (a 5xx, a timeout
        after the request left) the row is unknown, and files.info on those ids says whether it
        was shared (Reconciling._reconcile_upload) before it is ever uploaded again."""
        render = renderer_for(row.payload)
        if render is None:
            raise Unrenderable(f"no_renderer:{row.payload.get('renderer')}")
        with self.uow() as uow:
            upload = render(uow.session, row.team_id, row.payload, uow.now())
        arguments = upload_arguments(upload, channel)
        return lambda client: self._upload(row, client, arguments)

    def _upload(self, row: OutboxMessage, client: WebClient, arguments: dict[str, Any]) -> Any:
        # The first two steps repeat harmlessly (a new upload URL, bytes nobody shares yet), so
        # their client may re-send them after a 5xx or a dropped connection; the share it never
        # re-sends (bot.app.IDEMPOTENT_METHODS).
        from bot.app import IdempotentConnectionErrorRetryHandler, IdempotentServerErrorRetryHandler

        steps = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            retry_handlers=[
                *client.retry_handlers,
                IdempotentConnectionErrorRetryHandler(max_retry_count=2),
                IdempotentServerErrorRetryHandler(max_retry_count=2),
            ],
        )
        uploaded: list[dict[str, Any]] = []
        try:
            for item in arguments["file_uploads"]:
                content = item["content"]
                data = content.encode() if isinstance(content, str) else bytes(content)
                answer = steps.files_getUploadURLExternal(
                    filename=item["filename"],
                    length=len(data),
                    **({"alt_txt": item["alt_txt"]} if item.get("alt_txt") is not None else {}),
                )
                _post_file_bytes(str(answer["upload_url"]), data, float(client.timeout or 30))
                uploaded.append({"id": str(answer["file_id"]), "title": item["title"]})
        except SlackApiError as error:
            if error.response.status_code >= 500:
                raise NothingShared(f"http_{error.response.status_code}") from error
            raise  # a 429 or a definite refusal: handled as any answer (_after_error)
        except Exception as error:
            raise NothingShared(type(error).__name__) from error
        assert row.id is not None
        attempt_files = ",".join(f for f in (row.attempt_files, uploaded[0]["id"]) if f)
        try:
            with self.uow() as uow:
                recorded = outbox_queries.record_upload_files(
                    session=uow.session,
                    row_id=row.id,
                    worker=self.worker,
                    attempt_files=attempt_files,
                )
        except Exception as error:
            raise NothingShared(type(error).__name__) from error
        if not recorded:
            raise NothingShared("claim lost before the share")
        row.attempt_files = attempt_files
        extra = {
            k: v
            for k, v in arguments.items()
            if k not in ("channel", "file_uploads", "initial_comment")
        }
        return client.files_completeUploadExternal(
            files=uploaded,
            channel_id=arguments["channel"],
            initial_comment=arguments["initial_comment"],
            **extra,
        )
