"""Kudos messages kept as plain text: what the giver typed, escaped only where it is shown.

Until now a kudos message was kept in Slack's markup: from the modal escaped (`&lt;`,
`&amp;`), from `/kudos` as Slack sent it (`<@U1|leo>`, `<!channel>`, `&lt;`). The builders now
escape the message wherever it meets mrkdwn, so a kept `&lt;` would show as "&lt;": each
message becomes the plain words it stands for, the same way bot.usecases.kudos.message_as_typed
reads new ones. (Copied here: a migration must not change when the app's code does.)

Revision ID: 0006_kudos_plain_text
Revises: 0005
Create Date: 2026-12-01 20:00:00.000000

"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_kudos_plain_text"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQUENCE = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_CHARS = {"amp": "&", "lt": "<", "gt": ">"}


def _readable(match: re.Match[str]) -> str:
    target, _, label = match.group(1).partition("|")
    if target.startswith("@"):
        return "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        word = target[1:].split("^")[0].lower()
        if word == "subteam":
            return label or "@group"
        if word == "date":
            return label
        return f"@{word}"
    return target if not label or label == target else f"{label} ({target})"


def as_plain_text(message: str) -> str:
    return _ENTITY.sub(lambda m: _CHARS[m.group(1)], _SEQUENCE.sub(_readable, message))


def _rewrite(convert: object) -> None:
    kudos = sa.table("kudos", sa.column("id", sa.Integer), sa.column("message", sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(kudos.c.id, kudos.c.message)).all()
    for row_id, message in rows:
        changed = convert(message or "")  # type: ignore[operator]
        if changed != message:
            connection.execute(sa.update(kudos).where(kudos.c.id == row_id).values(message=changed))


def upgrade() -> None:
    _rewrite(as_plain_text)


def downgrade() -> None:
    """Back to the escaped form the modal used to keep."""
    _rewrite(lambda text: text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
