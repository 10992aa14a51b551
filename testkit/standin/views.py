"""The stand-in's views.* methods: modals (trigger ids that expire), pushes, updates and the Home
tab (testkit.standin)."""

from __future__ import annotations

import time
from typing import Any

from testkit.standin.blockkit import KNOWN_VIEW_TYPES, BlockKitChecker, _problem_missing
from testkit.standin.records import SlackApiErrorAnswer
from testkit.standin.state import StandInState

TRIGGER_ID_LIFETIME_SECONDS = 3.0


class ViewsMethods(StandInState):
    @staticmethod
    def _validated_view(
        params: dict[str, Any], *, allowed_types: tuple[str, ...] = KNOWN_VIEW_TYPES
    ) -> dict[str, Any]:
        view = params.get("view")
        checker = BlockKitChecker()
        if view is None:
            checker.problems.append(_problem_missing("/", "view"))
        else:
            checker.check_view(view, allowed_types=allowed_types)
        if checker.problems:
            raise SlackApiErrorAnswer(
                "invalid_arguments", {"response_metadata": {"messages": checker.problems}}
            )
        assert isinstance(view, dict)
        return view

    def _store_view(
        self,
        view: dict[str, Any],
        *,
        view_id: str | None = None,
        root_view_id: str | None = None,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        view_id = view_id or self._new_id("V")
        # The view belongs to the workspace whose token opened it: its team_id and
        # app_installed_team_id come back in a click inside it (block_actions' `view`,
        # https://docs.slack.dev/reference/interaction-payloads/block_actions-payload), and
        # Bolt authorizes such a click by the view's app_installed_team_id.
        team_id = team_id or self.team_id
        stored: dict[str, Any] = {
            "id": view_id,
            "team_id": team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{self._new_id('h')}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root_view_id or view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": team_id,
            "bot_id": self.bot_id,
        }
        for name in ("title", "submit", "close"):
            if view.get(name) is not None:
                stored[name] = view[name]
        old_external_id = self._views.get(view_id, {}).get("external_id")
        if old_external_id:
            self._view_ids_by_external_id.pop(old_external_id, None)
        if stored["external_id"]:
            self._view_ids_by_external_id[stored["external_id"]] = view_id
        self._views[view_id] = stored
        return stored

    def _check_trigger(self, trigger_id: Any) -> None:
        """Slack's trigger_ids last 3 seconds. The signed-request sender (testkit.simulator) puts
        the moment it made one in its first part, in milliseconds, so a modal opened after slow
        work fails here as it would in Slack; other trigger ids are only checked for presence."""
        if not trigger_id:
            raise SlackApiErrorAnswer("invalid_trigger_id")
        issued = str(trigger_id).split(".", 1)[0]
        if len(issued) == 13 and issued.isdigit():
            age = time.time() - int(issued) / 1000
            if age > TRIGGER_ID_LIFETIME_SECONDS:
                raise SlackApiErrorAnswer("expired_trigger_id")

    def _views_open(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        self._check_trigger(params.get("trigger_id"))
        view = self._validated_view(params)
        return {"view": self._store_view(view, team_id=self._team_of_token(token))}

    def _views_push(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        self._check_trigger(params.get("trigger_id"))
        view = self._validated_view(params, allowed_types=("modal",))
        return {"view": self._store_view(view, team_id=self._team_of_token(token))}

    def _views_update(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        if not view_id and not external_id:
            raise SlackApiErrorAnswer("invalid_arguments")
        if not view_id:
            view_id = self._view_ids_by_external_id.get(str(external_id))
        existing = self._views.get(str(view_id)) if view_id else None
        if existing is None:
            raise SlackApiErrorAnswer("not_found")
        given_hash = params.get("hash")
        if given_hash and given_hash != existing["hash"]:
            raise SlackApiErrorAnswer("hash_conflict")
        view = self._validated_view(params)
        return {
            "view": self._store_view(
                view, view_id=existing["id"], root_view_id=existing["root_view_id"]
            )
        }

    def _views_publish(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        user = self._known_user(params.get("user_id"))
        view = self._validated_view(params, allowed_types=("home",))
        existing_id = self._home_view_ids.get(user.id)
        existing = self._views.get(existing_id) if existing_id else None
        given_hash = params.get("hash")
        # `hash` "represents view state to protect against possible race conditions";
        # hash_conflict: "the provided hash doesn't match the current stored value". Each
        # publish stores a new hash, so a hash read before another publish is stale.
        # https://docs.slack.dev/reference/methods/views.publish
        if existing is not None and given_hash and given_hash != existing["hash"]:
            raise SlackApiErrorAnswer("hash_conflict")
        stored = self._store_view(view, view_id=existing_id)
        self._home_view_ids[user.id] = stored["id"]
        return {"view": stored}
