"""The stand-in's files.* methods: the two-step external upload and files.info
(testkit.standin)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from testkit.standin.records import SlackApiErrorAnswer
from testkit.standin.state import StandInState

# files.getUploadURLExternal: an alt_txt longer than 1,000 characters is alt_txt_too_large
# ("Description for the image is longer than the limit of 1000 character").
# https://api.slack.com/methods/files.getUploadURLExternal
MAX_ALT_TXT = 1000


@dataclass
class _StoredFile:
    id: str
    filename: str
    length: int
    content: bytes | None = None
    alt_txt: str | None = None
    title: str | None = None
    # Where files.completeUploadExternal shared it: conversation id -> the share's ts.
    shares: dict[str, str] = field(default_factory=dict)


class FilesMethods(StandInState):
    def _files_get_upload_url_external(
        self, params: dict[str, Any], token: str | None
    ) -> dict[str, Any]:
        filename = params.get("filename")
        length_text = str(params.get("length") or "")
        if not filename or not length_text.isdigit():
            raise SlackApiErrorAnswer("invalid_arguments")
        length = int(length_text)
        if length <= 0:
            raise SlackApiErrorAnswer("invalid_length")
        # `alt_txt`: "Description of image for screen-reader", optional; longer than 1,000
        # characters is `alt_txt_too_large`.
        # https://api.slack.com/methods/files.getUploadURLExternal
        alt_txt = params.get("alt_txt")
        if alt_txt is not None and len(str(alt_txt)) > MAX_ALT_TXT:
            raise SlackApiErrorAnswer("alt_txt_too_large")
        file_id = self._new_id("F")
        self._files[file_id] = _StoredFile(
            id=file_id,
            filename=str(filename),
            length=length,
            alt_txt=str(alt_txt) if alt_txt is not None else None,
        )
        return {"upload_url": f"{self.origin}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(
        self, params: dict[str, Any], token: str | None
    ) -> dict[str, Any]:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            raise SlackApiErrorAnswer("invalid_arguments")
        channel_ids: list[str] = []
        if params.get("channel_id"):
            channel_ids.append(self._known_channel(params["channel_id"]))
        for channel in str(params.get("channels") or "").split(","):
            if channel:
                channel_ids.append(self._known_channel(channel))
        answered = []
        for item in files:
            file_id = item.get("id") if isinstance(item, dict) else None
            stored = self._files.get(str(file_id))
            if stored is None or stored.content is None:
                raise SlackApiErrorAnswer("file_not_found")
            share_ts = self._new_ts()
            stored.title = str(item.get("title") or stored.filename)
            for channel_id in channel_ids:
                stored.shares.setdefault(channel_id, share_ts)
            answered.append(
                {
                    **self._file_object(stored),
                    "permalink": self._permalink(channel_ids[0], share_ts)
                    if channel_ids
                    else f"https://{self.team_domain}.slack.com/files/{stored.id}",
                }
            )
        return {"files": answered}

    def _file_object(self, stored: _StoredFile) -> dict[str, Any]:
        """A file object as https://docs.slack.dev/reference/objects/file-object shows it: where
        it is shared is in `shares` (public/private, by conversation, each share with its `ts`)
        and in the `channels`, `groups` and `ims` lists; a file nobody shared has none."""
        public = {c: [{"ts": ts}] for c, ts in stored.shares.items() if c.startswith("C")}
        private = {c: [{"ts": ts}] for c, ts in stored.shares.items() if not c.startswith("C")}
        return {
            "id": stored.id,
            "created": int(time.time()),
            "timestamp": int(time.time()),
            "name": stored.filename,
            "title": stored.title or stored.filename,
            **({"alt_txt": stored.alt_txt} if stored.alt_txt is not None else {}),
            "user": self.bot_user_id,
            "size": len(stored.content or b""),
            "url_private": f"{self.origin}/files/{stored.id}/{stored.filename}",
            "shares": {
                **({"public": public} if public else {}),
                **({"private": private} if private else {}),
            },
            "channels": [c for c in stored.shares if c.startswith("C")],
            "groups": [c for c in stored.shares if c.startswith("G")],
            "ims": [c for c in stored.shares if c.startswith("D")],
        }

    def _files_info(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        """files.info: the file object (https://docs.slack.dev/reference/methods/files.info;
        an unknown id is `file_not_found`). A file uploaded but never completed is known here
        and shared nowhere."""
        stored = self._files.get(str(params.get("file") or ""))
        if stored is None:
            raise SlackApiErrorAnswer("file_not_found")
        return {"file": self._file_object(stored)}
