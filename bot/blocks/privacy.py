"""Messages for `/rebound export` and `/rebound forget-me` (pure Block Kit builders)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.blocks.kit import actions, button, confirm, message, section
from bot.slack_text import plural

FORGET_ME_CONFIRM_ACTION_ID = "privacy_forget_me_confirm"
FORGET_ME_CANCEL_ACTION_ID = "privacy_forget_me_cancel"
DELETE_WORKSPACE_CONFIRM_ACTION_ID = "privacy_delete_workspace_confirm"


def export_on_its_way_message(*, workspace: bool) -> dict[str, Any]:
    what = "The workspace export is" if workspace else "Your data is"
    return message(f"{what} on its way to your DM as a JSON file and CSV files.")


def workspace_export_refused_message() -> dict[str, Any]:
    return message(
        "Only Rebound admins can export the whole workspace — workspace owners and admins, and "
        "anyone listed in REBOUND_ADMINS. You can export your own data with `/rebound export`."
    )


def export_failed_message() -> dict[str, Any]:
    return message(
        "I couldn't send your export just now. Please run `/rebound export` again in a minute."
    )


def export_comment(*, workspace: bool, filenames: Sequence[str]) -> str:
    """The comment that goes with the uploaded files."""
    listed = ", ".join(filenames)
    if workspace:
        return (
            f"Here is the workspace's Rebound data: {listed}. Reflections, commitments, "
            "check-in answers, buyer feedback and the why of each goal stay private to each rep "
            "and their manager, so they are not in it, only how many there are; each person can "
            "export their own with `/rebound export`."
        )
    return (
        f"Here is everything Rebound keeps about you: {listed}. Only you received this. "
        "To delete it all, use `/rebound forget-me`."
    )


def forget_me_confirmation(user_id: str) -> dict[str, Any]:
    """The ephemeral 'are you sure?'. The button's value names who it was shown to, only so
    the click can be checked against the clicker; what gets deleted is always the clicker's."""
    text = (
        "*Delete everything Rebound keeps about you?*\n"
        "Your debriefs and reflections, wins and losses, check-ins and answers, goals, the "
        "kudos you gave and your place on kudos you received. Messages already posted in "
        "channels stay. This can't be undone — run `/rebound export` first if you want a copy."
    )
    return _delete_or_keep(
        "Delete everything Rebound keeps about you?",
        text,
        block_id="privacy_forget_me",
        delete=button(
            "Delete my data",
            FORGET_ME_CONFIRM_ACTION_ID,
            style="danger",
            value=user_id,
            confirm=_are_you_sure(
                "Delete your data?", "Everything Rebound keeps about you will be deleted."
            ),
        ),
        keep="Keep my data",
    )


def _are_you_sure(title: str, text: str) -> dict[str, Any]:
    return confirm(title, text, ok="Delete", deny="Keep it", style="danger")


def _delete_or_keep(
    summary: str, text: str, *, block_id: str, delete: dict[str, Any], keep: str
) -> dict[str, Any]:
    """An ephemeral "are you sure?": the consequences, the delete button, and a way out."""
    return {
        "text": summary,
        "blocks": [
            section(text),
            actions(
                delete,
                button(keep, FORGET_ME_CANCEL_ACTION_ID, value="keep"),
                block_id=block_id,
            ),
        ],
    }


def forgotten_message(counts: Mapping[str, int]) -> dict[str, Any]:
    """What was deleted, kind by kind; says so plainly when there was nothing."""
    if not any(counts.values()):
        return message(
            "There was nothing of yours left to delete — Rebound keeps no data about you."
        )
    lines = [f"• {kind}: {count}" for kind, count in counts.items() if count]
    return message("*Done — your data is deleted.*\n" + "\n".join(lines))


def not_your_button_message() -> dict[str, Any]:
    return message(
        "That button was for someone else. To delete your own data, run `/rebound forget-me`."
    )


def kept_message() -> dict[str, Any]:
    return message("Nothing was deleted. Your data stays as it is.")


def forget_failed_message() -> dict[str, Any]:
    return message("I couldn't delete your data just now; nothing was changed. Please try again.")


def delete_workspace_confirmation() -> dict[str, Any]:
    """The admin's ephemeral 'are you sure?' before deleting the whole workspace's data."""
    text = (
        "*Delete all of this workspace's Rebound data now?*\n"
        "Every debrief and reflection, win and loss, check-in, goal, kudos and setting, for "
        "everyone. Messages already posted in channels stay, and Rebound stays installed. "
        "This can't be undone — run `/rebound export workspace` first if you want a copy."
    )
    return _delete_or_keep(
        "Delete all of this workspace's Rebound data now?",
        text,
        block_id="privacy_delete_workspace",
        delete=button(
            "Delete all data",
            DELETE_WORKSPACE_CONFIRM_ACTION_ID,
            style="danger",
            value="workspace",
            confirm=_are_you_sure(
                "Delete all data?", "Everything Rebound keeps about this workspace goes."
            ),
        ),
        keep="Keep the data",
    )


def workspace_deleted_message(rows: int) -> dict[str, Any]:
    if not rows:
        return message("There was no Rebound data left to delete in this workspace.")
    return message(
        f"Done: all of this workspace's Rebound data is deleted "
        f"({plural(rows, 'record', 'records')}). "
        "Rebound starts fresh from here."
    )


def delete_workspace_refused_message() -> dict[str, Any]:
    return message(
        "Only Rebound admins can delete the workspace's data — workspace owners and admins, "
        "and anyone listed in REBOUND_ADMINS. `/rebound forget-me` deletes your own."
    )
