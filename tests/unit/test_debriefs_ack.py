"""The debrief listener's save-before-ack rule, with plain callables (no Slack, no database)."""

from __future__ import annotations

from typing import Any

# -- the listener's save-before-ack rule --------------------------------------------------------


def test_a_failed_save_keeps_the_modal_open_with_an_error() -> None:
    from bot.features._save_before_ack import SAVE_FAILED, save_before_ack
    from bot.uow import UnitOfWork

    class FailingSession:
        info: dict[str, object] = {}

        def commit(self) -> None:
            raise RuntimeError("database went away")

        def rollback(self) -> None:
            return None

        def close(self) -> None:
            return None

    acks: list[dict[str, Any]] = []
    uow = UnitOfWork(FailingSession)  # type: ignore[arg-type]
    result = save_before_ack(
        lambda **kw: acks.append(kw),  # type: ignore[arg-type]
        uow,
        lambda uow: "saved",
        error_block="deal",
    )
    assert result is None
    assert acks == [{"response_action": "errors", "errors": {"deal": SAVE_FAILED}}]


def test_a_good_save_is_acked_after_the_commit() -> None:
    from bot.features._save_before_ack import save_before_ack
    from bot.uow import UnitOfWork

    events: list[str] = []

    class RecordingSession:
        info: dict[str, object] = {}

        def commit(self) -> None:
            events.append("commit")

        def rollback(self) -> None:
            events.append("rollback")

        def close(self) -> None:
            return None

    uow = UnitOfWork(RecordingSession)  # type: ignore[arg-type]
    result = save_before_ack(
        lambda **kw: events.append("ack"),  # type: ignore[arg-type]
        uow,
        lambda uow: 42,
        error_block="deal",
    )
    assert result == 42
    assert events == ["commit", "ack"]
