"""Prometheus metrics for `/metrics`: Slack requests and how fast they were acknowledged,
posts sent, and Slack API trouble (429s and 5xx). One registry per process, built at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate_latest
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# Slack waits 3 s for an acknowledgement; the buckets are dense below that.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
REQUEST_KINDS = (
    "slash_command",
    "view_submission",
    "block_actions",
    "event_callback",
    "url_verification",
    "other",
)


@dataclass
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    ack_seconds: Histogram
    posts_sent: Counter
    slack_api_responses: Counter

    def render(self) -> tuple[bytes, str]:
        return _generate_latest(self.registry), CONTENT_TYPE_LATEST


def make_metrics() -> Metrics:
    registry = CollectorRegistry()
    return Metrics(
        registry=registry,
        requests=Counter(
            "rebound_slack_requests",
            "Requests from Slack to /slack/events, by kind and HTTP status.",
            ["kind", "status"],
            registry=registry,
        ),
        ack_seconds=Histogram(
            "rebound_ack_seconds",
            "Time from receiving a Slack request to answering it (the acknowledgement).",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=registry,
        ),
        posts_sent=Counter(
            "rebound_posts_sent",
            "Messages posted exactly-once through the post log, by kind.",
            ["kind"],
            registry=registry,
        ),
        slack_api_responses=Counter(
            "rebound_slack_api_errors",
            "Slack Web API answers that were errors at the HTTP level (429, 5xx), by method.",
            ["method", "status"],
            registry=registry,
        ),
    )


class SlackErrorObserver(RetryHandler):
    """Sees every failed Web API attempt (the client asks each retry handler in turn), counts
    it, and never asks for a retry itself; the real retry handlers come after it."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=1_000_000)
        self.metrics = metrics

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        # The client asks its retry handlers about every answer, 200s included; only HTTP
        # errors (and answers that never came) are counted, as the metric's help says.
        if response is not None and response.status_code < 400:
            return False
        status = str(response.status_code) if response is not None else "connection_error"
        method = request.url.rsplit("/", 1)[-1].split("?", 1)[0]
        self.metrics.slack_api_responses.labels(method=method, status=status).inc()
        return False


def request_kind(content_type: str, body: bytes) -> str:
    """Classify a Slack request cheaply, without trusting it (it is only a label)."""
    if content_type.startswith("application/json"):
        if b'"url_verification"' in body[:200]:
            return "url_verification"
        return "event_callback" if b'"event_callback"' in body else "other"
    if body.startswith(b"payload=") or b"&payload=" in body:
        if b"view_submission" in body:
            return "view_submission"
        if b"block_actions" in body:
            return "block_actions"
        return "other"
    return "slash_command" if b"command=" in body else "other"


def observe_request(metrics: Metrics | None, kind: str, status: int, seconds: float) -> None:
    if metrics is None:
        return
    metrics.requests.labels(kind=kind, status=str(status)).inc()
    metrics.ack_seconds.labels(kind=kind).observe(seconds)


def count_post(metrics: Metrics | None, kind: str) -> None:
    if metrics is not None:
        metrics.posts_sent.labels(kind=kind).inc()
