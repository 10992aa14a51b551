"""What the goals tests share (tests/e2e/test_goals*.py)."""

from __future__ import annotations
import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
import pytest
from sqlmodel import select
from bot.app import IDEMPOTENT_METHODS, Deps, build_ticker
from bot.blocks.goals import (
    GOAL_CALLBACK_ID,
    parse_goal_submission,
    progress_bar,
    review_message,
    review_table_lines,
    team_review_message,
)
from bot.clock import FakeClock
from bot.config import Settings
from bot.domain import Classification
from bot.domain.goals import CycleReview, GoalProgress
from bot.jobs import goals as goals_jobs
from bot.usecases.goals import (
    checkin_process_scores,
    default_cycle,
    local_today,
    offered_cycle,
    rep_review_due_at,
    reported_goal_progress,
    review_cycle,
    team_review_due_at,
)
from storage import goals_queries, queries
from storage.db import make_engine, make_session_factory
from storage.models import CheckIn, CheckInAnswer, Goal
from testkit.live import LiveApp
from testkit.simulator import state_value
from testkit.standin import SlackStandIn
from tests.support.factories import (
    TEAM,
    add_goal,
    add_outcome,
    goal_values,
    live_session,
    new_user,
    open_goal_modal,
    session_factory,
)

__all__ = ["session_factory"]  # the fixture (tests/support/factories.py)
