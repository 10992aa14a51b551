"""The Slack stand-in's file uploads, OAuth and token checks, driven by the real slack_sdk
WebClient as the app drives it."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from testkit.standin import SlackStandIn
from tests.support.standin_client import client_for, standin

__all__ = ["standin"]  # the fixtures (tests/support/standin_client.py)


def test_files_upload_v2_end_to_end(standin: SlackStandIn) -> None:
    content = b"\x89PNG fake chart bytes"
    response = client_for(standin).files_upload_v2(
        channel="C0WINS", content=content, filename="x.png", title="Quadrants"
    )
    file_info = response["file"]
    assert file_info["title"] == "Quadrants"
    assert file_info["size"] == len(content)
    assert standin.uploaded_file(file_info["id"]) == content
    [complete] = standin.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C0WINS"
    assert complete.params["files"][0]["id"] == file_info["id"]


def test_files_keep_their_alt_txt_up_to_slacks_1000_characters(standin: SlackStandIn) -> None:
    # files.getUploadURLExternal takes alt_txt; more than 1,000 characters is alt_txt_too_large.
    # https://api.slack.com/methods/files.getUploadURLExternal
    client = client_for(standin)
    response = client.files_upload_v2(
        channel="C0WINS", content=b"\x89PNG", filename="x.png", alt_txt="Chart of 3 reps"
    )
    file_id = response["file"]["id"]
    assert standin.uploaded_alt_txt(file_id) == "Chart of 3 reps"
    assert response["file"]["alt_txt"] == "Chart of 3 reps"
    [announced] = standin.calls_to("files.getUploadURLExternal")
    assert announced.params["alt_txt"] == "Chart of 3 reps"
    assert client.files_getUploadURLExternal(filename="y.png", length=3, alt_txt="a" * 1000)["ok"]
    with pytest.raises(SlackApiError) as raised:
        client.files_getUploadURLExternal(filename="z.png", length=3, alt_txt="a" * 1001)
    assert raised.value.response["error"] == "alt_txt_too_large"


def test_completing_a_file_never_uploaded_is_file_not_found(standin: SlackStandIn) -> None:
    client = client_for(standin)
    file_id = client.files_getUploadURLExternal(filename="x.png", length=3)["file_id"]
    with pytest.raises(SlackApiError) as raised:
        client.files_completeUploadExternal(files=[{"id": file_id, "title": "x"}])
    assert raised.value.response["error"] == "file_not_found"


def test_oauth_v2_access(standin: SlackStandIn) -> None:
    client = WebClient(base_url=standin.url)
    response = client.oauth_v2_access(client_id="123.456", client_secret="shh", code="good-code")
    assert response["access_token"].startswith("xoxb-")
    assert response["team"] == {"id": "T0REBOUND", "name": "Rebound Demo"}
    assert response["bot_user_id"] == "U0REBOUNDBOT"
    assert response["authed_user"]["id"]
    # The issued token works for later calls.
    assert client_for(standin, token=response["access_token"]).auth_test()["ok"] is True
    with pytest.raises(SlackApiError) as raised:
        client.oauth_v2_access(client_id="123.456", client_secret="shh", code="invalid")
    assert raised.value.response["error"] == "invalid_code"


def test_oauth_v2_access_in_a_grid_org_names_the_enterprise(standin: SlackStandIn) -> None:
    standin.add_team("T0GRIDWS", "Grid Workspace", enterprise_id="E0ORG", enterprise_name="Org")
    client = WebClient(base_url=standin.url)
    response = client.oauth_v2_access(client_id="1.2", client_secret="s", code="code-for-T0GRIDWS")
    assert response["team"] == {"id": "T0GRIDWS", "name": "Grid Workspace"}
    assert response["enterprise"] == {"id": "E0ORG", "name": "Org"}
    assert response["is_enterprise_install"] is False
    identity = client_for(standin, token=response["access_token"]).auth_test()
    assert (identity["team_id"], identity["enterprise_id"]) == ("T0GRIDWS", "E0ORG")
    # Outside Grid: no enterprise.
    plain = client.oauth_v2_access(client_id="1.2", client_secret="s", code="good-code")
    assert plain["enterprise"] is None
    assert "enterprise_id" not in client_for(standin, token=plain["access_token"]).auth_test()


def test_tokens_are_checked(standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(base_url=standin.url).auth_test()
    assert raised.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as raised:
        client_for(standin, token="bogus").auth_test()
    assert raised.value.response["error"] == "invalid_auth"
    app_token_client = client_for(standin, token="xapp-1-A0-1-abc")
    assert app_token_client.apps_connections_open(app_token="xapp-1-A0-1-abc")["url"].startswith(
        "ws://127.0.0.1:"
    )


def test_unknown_method_is_404(standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as raised:
        client_for(standin).api_call("nope.never")
    assert raised.value.response.status_code == 404
    assert raised.value.response["error"] == "unknown_method"
