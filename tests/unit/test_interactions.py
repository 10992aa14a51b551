"""What the listeners share (bot.features._interactions), with plain callables (no Slack, no
database): a row button's click and the listener made of its handler, views.open, and a
submitted form naming a row."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt.util.utils import get_arg_names_of_callable
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.features import corrections
from bot.features._interactions import (
    RowClick,
    form_row_and_answers,
    on_row_click,
    open_modal,
    row_click,
)

BODY = {"team": {"id": "T1"}, "user": {"id": "U1", "team_id": "T1"}}


class Acks:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


def test_a_row_click_is_acked_and_says_who_clicked_which_row() -> None:
    ack, deps = Acks(), object()
    action = {"action_id": "remove", "value": "42"}
    click = row_click(ack, BODY, action, {"deps": deps})  # type: ignore[arg-type]
    assert ack.calls == [{}]
    assert click == RowClick(deps, "T1", "U1", 42, "remove")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, "", "abc", "-5", "1" * 40, True])
def test_a_value_that_is_not_a_row_id_is_acked_and_nothing_more(value: object) -> None:
    ack = Acks()
    assert row_click(ack, BODY, {"value": value}, {"deps": object()}) is None  # type: ignore[arg-type]
    assert ack.calls == [{}]


class Handled:
    """A row click handler that keeps what it was called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[RowClick, WebClient, dict[str, Any]]] = []

    def __call__(self, click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
        self.calls.append((click, client, body))


def _listener_of(handled: Handled) -> Any:
    @on_row_click
    def remove_clicked(click: RowClick, client: WebClient, body: dict[str, Any]) -> None:
        """Removes the row."""
        handled(click, client, body)

    return remove_clicked


def test_a_row_click_listener_takes_the_arguments_bolt_passes_and_its_handlers_name() -> None:
    listener = _listener_of(Handled())
    # Bolt passes a listener the arguments its parameter names say (read through unwrap).
    assert get_arg_names_of_callable(listener) == ["ack", "body", "action", "client", "context"]
    assert not hasattr(listener, "__wrapped__")
    assert listener.__name__ == "remove_clicked"  # the name Bolt logs it by
    assert listener.__qualname__.endswith("_listener_of.<locals>.remove_clicked")
    assert listener.__doc__ == "Removes the row."
    assert listener.__module__ == __name__
    registered = corrections.remove_clicked
    assert get_arg_names_of_callable(registered) == ["ack", "body", "action", "client", "context"]
    assert registered.__name__ == "remove_clicked"


def test_a_row_click_listener_acks_once_then_hands_the_click_to_its_handler() -> None:
    ack, deps, client, handled = Acks(), object(), object(), Handled()
    body = {**BODY, "trigger_id": "trig"}
    action = {"action_id": "remove", "value": "42"}
    _listener_of(handled)(ack=ack, body=body, action=action, client=client, context={"deps": deps})
    assert ack.calls == [{}]
    assert handled.calls == [(RowClick(deps, "T1", "U1", 42, "remove"), client, body)]  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, "", "abc", "-5", "1" * 40, True])
def test_a_row_click_listener_leaves_its_handler_out_without_a_row_id(value: object) -> None:
    ack, handled = Acks(), Handled()
    listener = _listener_of(handled)
    listener(ack=ack, body=BODY, action={"value": value}, client=object(), context={"deps": 1})
    assert ack.calls == [{}]
    assert handled.calls == []


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
