"""What the listeners share (bot.features._interactions), with plain callables (no Slack, no
database): a row button's click, views.open, and a submitted form naming a row."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.features._interactions import RowClick, form_row_and_answers, open_modal, row_click

BODY = {"team": {"id": "T1"}, "user": {"id": "U1", "team_id": "T1"}}


class Acks:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


def test_a_row_click_is_acked_and_says_who_clicked_which_row() -> None:
    ack, deps = Acks(), object()
    click = row_click(ack, BODY, {"value": "42"}, {"deps": deps})  # type: ignore[arg-type]
    assert ack.calls == [{}]
    assert click == RowClick(deps, "T1", "U1", 42)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, "", "abc", "-5", "1" * 40, True])
def test_a_value_that_is_not_a_row_id_is_acked_and_nothing_more(value: object) -> None:
    ack = Acks()
    assert row_click(ack, BODY, {"value": value}, {"deps": object()}) is None  # type: ignore[arg-type]
    assert ack.calls == [{}]


class FakeClient:
    def __init__(self, error: str | None = None) -> None:
        self.error = error
        self.opened: list[dict[str, Any]] = []

    def views_open(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        if self.error:
            response = SlackResponse(
                client=None,
                http_verb="POST",
                api_url="https://slack.com/api/views.open",
                req_args={},
                data={"ok": False, "error": self.error},
                headers={},
                status_code=200,
            )
            raise SlackApiError("refused", response)
        self.opened.append({"trigger_id": trigger_id, "view": view})


def test_open_modal_says_whether_slack_opened_it(caplog: pytest.LogCaptureFixture) -> None:
    client = FakeClient()
    assert open_modal(client, "trig", {"type": "modal"}, what="a test") is True  # type: ignore[arg-type]
    assert client.opened == [{"trigger_id": "trig", "view": {"type": "modal"}}]
    refusing = FakeClient("expired_trigger_id")
    assert open_modal(refusing, "trig", {"type": "modal"}, what="a test") is False  # type: ignore[arg-type]
    assert "views.open for a test failed: expired_trigger_id" in caplog.text


def _parse(values: Any) -> tuple[str | None, dict[str, str]]:
    text = values["note"]["note"]["value"]
    return (text, {}) if text else (None, {"note": "Please write a note."})


def _read_row(metadata: str) -> int | None:
    return int(metadata) if metadata.isdigit() else None


def _view(metadata: str, note: str) -> dict[str, Any]:
    return {"private_metadata": metadata, "state": {"values": {"note": {"note": {"value": note}}}}}


def test_a_form_gives_its_row_and_answers_unacked() -> None:
    ack = Acks()
    assert form_row_and_answers(ack, _view("7", "hi"), _read_row, _parse) == (7, "hi")  # type: ignore[arg-type]
    assert ack.calls == []


def test_a_form_without_its_row_is_closed_and_one_with_field_errors_kept_open() -> None:
    ack = Acks()
    assert form_row_and_answers(ack, _view("x", "hi"), _read_row, _parse) is None  # type: ignore[arg-type]
    assert ack.calls == [{}]
    ack = Acks()
    assert form_row_and_answers(ack, _view("7", ""), _read_row, _parse) is None  # type: ignore[arg-type]
    assert ack.calls == [{"response_action": "errors", "errors": {"note": "Please write a note."}}]
