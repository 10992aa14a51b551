"""The stand-in's auth.test and oauth.v2.access (installs, token rotation, Enterprise Grid), and
which team a token names (testkit.standin)."""

from __future__ import annotations

from typing import Any

from testkit.standin.records import SlackApiErrorAnswer, StandInUser, _workspace_domain
from testkit.standin.state import StandInState


class AuthMethods(StandInState):
    def _team_of_token(self, token: str | None) -> str:
        parts = (token or "").split("-")
        if len(parts) > 2 and parts[0] == "xoxb" and parts[1] in self.teams:
            return parts[1]
        return self.team_id

    def _enterprise_of(self, team_id: str) -> dict[str, str] | None:
        """The `enterprise` object of oauth.v2.access for a team: {id, name} in a Grid org, else
        null (https://docs.slack.dev/reference/methods/oauth.v2.access)."""
        grid = self.team_enterprises.get(team_id)
        return None if grid is None else {"id": grid[0], "name": grid[1]}

    def _auth_test(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        team_id = self._team_of_token(token)
        answer: dict[str, Any] = {
            "url": f"https://{_workspace_domain(self.teams[team_id])}.slack.com/",
            "team": self.teams[team_id],
            "user": self.users[self.bot_user_id].name,
            "team_id": team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
        # "When working against a team within an Enterprise organization, you'll also find their
        # enterprise_id here." https://docs.slack.dev/reference/methods/auth.test
        enterprise = self._enterprise_of(team_id)
        if enterprise is not None:
            answer["enterprise_id"] = enterprise["id"]
        return answer

    def _oauth_v2_access(self, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not params.get("client_id"):
            raise SlackApiErrorAnswer("invalid_client_id")
        if not params.get("client_secret"):
            raise SlackApiErrorAnswer("bad_client_secret")
        if params.get("grant_type") == "refresh_token":
            team_id = self._refresh_tokens.pop(str(params.get("refresh_token")), None)
            if team_id is None:
                raise SlackApiErrorAnswer("invalid_refresh_token")
            return {
                "app_id": self.app_id,
                "token_type": "bot",
                "scope": "chat:write,commands,users:read,im:write,files:write",
                "bot_user_id": self.bot_user_id,
                "team": {"id": team_id, "name": self.teams[team_id]},
                "enterprise": self._enterprise_of(team_id),
                "is_enterprise_install": False,
                **self._new_bot_token(team_id),
            }
        code = params.get("code")
        if not code or code == "invalid":
            raise SlackApiErrorAnswer("invalid_code")
        team_id = str(code).removeprefix("code-for-")
        if team_id not in self.teams:
            team_id = self.team_id
        installer = next(
            (user for user in self.users.values() if not user.is_bot),
            StandInUser(id="U0INSTALLER", name="installer", real_name="Installer"),
        )
        return {
            "app_id": self.app_id,
            "authed_user": {"id": installer.id, "scope": "", "token_type": "user"},
            "scope": "chat:write,commands,users:read,im:write,files:write",
            "token_type": "bot",
            "bot_user_id": self.bot_user_id,
            "team": {"id": team_id, "name": self.teams[team_id]},
            # A workspace of a Grid org answers both `team` and `enterprise`; the app is then
            # installed on that one workspace (is_enterprise_install false). An org-wide install
            # would answer "team": null and is_enterprise_install true, which this app's manifest
            # (org_deploy_enabled: false) never asks for.
            # https://docs.slack.dev/reference/methods/oauth.v2.access and
            # https://api.slack.com/enterprise/apps/reference (sample oauth.v2.access response)
            "enterprise": self._enterprise_of(team_id),
            "is_enterprise_install": False,
            **self._new_bot_token(team_id),
        }

    def _new_bot_token(self, team_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = {"access_token": f"xoxb-{team_id}-{self._new_id('t')}"}
        if self.token_rotation:
            refresh_token = f"xoxe-1-{team_id}-{self._new_id('r')}"
            self._refresh_tokens[refresh_token] = team_id
            answer.update(refresh_token=refresh_token, expires_in=self.token_lifetime_seconds)
        return answer
