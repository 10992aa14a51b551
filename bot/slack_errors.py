"""Slack's answers, sorted once for everything that sends: what can never work, what may later.

Error codes are those the method references list (https://docs.slack.dev/reference/methods/
chat.postMessage, …/conversations.open, …/views.publish, …/files.completeUploadExternal) plus
the authentication errors every method shares (https://docs.slack.dev/reference/methods — the
"errors" section common to all methods: invalid_auth, not_authed, account_inactive,
token_revoked, token_expired, no_permission, missing_scope, ekm_access_denied).
"""

from __future__ import annotations

# The person can never get the DM: gone, deactivated, a bot, or DMs to apps turned off
# (conversations.open: user_not_found, users_not_found, user_disabled, cannot_dm_bot;
# chat.postMessage: messages_tab_disabled, channel_not_found/is_archived for the DM itself).
UNREACHABLE_PERSON = frozenset(
    {
        "user_not_found",
        "users_not_found",
        "user_disabled",
        "account_inactive",
        "cannot_dm_bot",
        "messages_tab_disabled",
        "channel_not_found",
        "is_archived",
    }
)
# The bot can't post in that channel until someone changes something (invites the bot, picks
# another channel): chat.postMessage's channel_not_found, not_in_channel, is_archived,
# restricted_action ("a workspace preference prevents the authenticated user from posting").
CHANNEL_REFUSED = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "restricted_action", "access_denied"}
)
# The app itself can't call Slack in that workspace (uninstalled, token revoked or expired,
# a scope the manifest lacks).
APP_NOT_AUTHORIZED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "no_permission",
        "missing_scope",
        "ekm_access_denied",
        "team_access_not_granted",
    }
)
# The message itself is wrong: sending the same bytes again gets the same answer.
MESSAGE_REFUSED = frozenset(
    {
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_attachments",
        "too_many_attachments",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_form_data",
        "invalid_json",
        "json_not_object",
        "duplicate_channel_not_found",
    }
)
# chat.delete can't remove it: "cant_delete_message" (the token may not delete this message; a
# bot token deletes only what that bot posted) and "compliance_exports_prevent_deletion"
# (https://docs.slack.dev/reference/methods/chat.delete, "Errors").
DELETE_REFUSED = frozenset({"cant_delete_message", "compliance_exports_prevent_deletion"})
# After these, sending the same request again cannot help. Everything else (a 5xx, a timeout,
# internal_error, fatal_error, service_unavailable, request_timeout) may work later.
PERMANENT = (
    UNREACHABLE_PERSON | CHANNEL_REFUSED | APP_NOT_AUTHORIZED | MESSAGE_REFUSED | DELETE_REFUSED
)


def is_permanent(code: str | None) -> bool:
    """True for an error code after which the same request can never succeed."""
    return code in PERMANENT
