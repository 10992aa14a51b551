"""Uploads through the outbox: a row with method ``files.uploadV2`` says what to upload; the
file itself is made when the row is sent. (A chat.postMessage row may be made at send time the
same way: `register_message_renderer`.)

The row's payload holds the parameters of a renderer registered here by name (``"renderer"``):
a chart's points and captions, or whose data an export is. The dispatcher (bot.dispatcher) asks
the renderer for the bytes at send time and uploads them with slack-sdk's `files_upload_v2`.
So no file sits in the outbox table (an export is personal data: it is made from what is
stored when it leaves, after a forget-me nothing of the person is in it), rows stay small, and
a retry renders the same file again from the same parameters.

Kept apart from the dispatcher so use cases register renderers without importing Slack's client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

UPLOAD_METHOD = "files.uploadV2"


@dataclass(frozen=True)
class UploadFile:
    content: bytes
    filename: str
    title: str
    # Said to screen readers ("Description of image for screen-reader":
    # https://docs.slack.dev/reference/methods/files.getUploadURLExternal).
    alt_txt: str | None = None


@dataclass(frozen=True)
class Upload:
    files: list[UploadFile]
    initial_comment: str
    extra: dict[str, Any] = field(default_factory=dict)


# render(session, team_id, params, now) -> what to upload. `session` is the dispatcher's (read
# only), `params` the row's payload, `now` the dispatcher's clock.
Renderer = Callable[[Session, str, Mapping[str, Any], datetime], Upload]

_RENDERERS: dict[str, Renderer] = {}


def register_renderer(name: str, render: Renderer) -> None:
    """Register how rows naming `name` are made into files (modules register when imported;
    registering a name again replaces it)."""
    _RENDERERS[name] = render


def renderer_for(payload: Mapping[str, Any]) -> Renderer | None:
    name = payload.get("renderer")
    return _RENDERERS.get(name) if isinstance(name, str) else None


# A message may be made at send time too: render(session, team_id, params, now) -> the
# chat.postMessage arguments (a manager's team review says which reps couldn't be DMed, known
# only once their review DMs were tried).
MessageRenderer = Callable[[Session, str, Mapping[str, Any], datetime], dict[str, Any]]

_MESSAGE_RENDERERS: dict[str, MessageRenderer] = {}


def register_message_renderer(name: str, render: MessageRenderer) -> None:
    _MESSAGE_RENDERERS[name] = render


def message_renderer_for(payload: Mapping[str, Any]) -> MessageRenderer | None:
    name = payload.get("renderer")
    return _MESSAGE_RENDERERS.get(name) if isinstance(name, str) else None


def upload_payload(renderer: str, **params: Any) -> dict[str, Any]:
    """An outbox payload for `renderer` with its (JSON-able) parameters."""
    return {"renderer": renderer, **params}


def upload_arguments(upload: Upload, channel: str) -> dict[str, Any]:
    """`WebClient.files_upload_v2` arguments: every file in one call, one comment."""
    return {
        "channel": channel,
        "file_uploads": [
            {
                "content": f.content,
                "filename": f.filename,
                "title": f.title,
                **({"alt_txt": f.alt_txt} if f.alt_txt is not None else {}),
            }
            for f in upload.files
        ],
        "initial_comment": upload.initial_comment,
        **upload.extra,
    }
