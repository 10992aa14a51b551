"""A workspace's settings as the settings modal shows them and as a save submits them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CurrentSettings:
    recognition_channel_id: str | None
    checkin_weekday: int
    checkin_hour: int
    kudos_policy: str
    strong_process_threshold: float
    teams: Mapping[str, Sequence[str]]  # manager user ID -> their reps' user IDs
    digest_enabled: bool = True
    reflection_retention_days: int | None = None  # None keeps reflections forever
    cycle: str = "monthly"
    checkin_reminder_hours: int = 24
    reflection_reminder_hours: int = 24
    kudos_daily_cap: int = 5
    data_grace_days: int = 30
    min_evidence: int = 3  # scored outcomes or check-ins before a quadrant is called
    bounce_back_min_losses: int = 2  # losses in a row before a bounce-back may go public
    currency: str | None = None  # ISO 4217 code
    support_streak: int = 3  # losses in a row that bring private resilience support
    # Stamped into the modal, so a save can tell whether someone else saved since it opened.
    settings_version: int | None = None


@dataclass
class SettingsSubmission:
    recognition_channel_id: str | None
    checkin_weekday: int
    checkin_hour: int
    kudos_policy: str
    strong_process_threshold: float
    teams: dict[str, list[str]] = field(default_factory=dict)
    # None when the modal had no digest checkbox: leave the setting as it is.
    digest_enabled: bool | None = None
    # False when the modal had no retention field: leave the setting as it is. When True,
    # reflection_retention_days None means "keep reflections forever".
    retention_submitted: bool = False
    reflection_retention_days: int | None = None
    # Workspace columns from the "more settings" fields that were in the modal; a field the
    # modal did not have leaves its setting as it is.
    more: dict[str, Any] = field(default_factory=dict)
