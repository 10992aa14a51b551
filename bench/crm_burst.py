"""HubSpot burst: 10 webhook requests of 100 closed-lost events each, sent at once.

`rebound serve` (a subprocess, SQLite in a temporary folder unless `--database-url`) is started
with HubSpot connected to the HubSpot stand-in (testkit/hubspot_standin.py), which holds 1,000
deals owned by 50 owners whose emails 50 people in the Slack stand-in have. Ten threads then POST
one signed batch each (HubSpot's v3 signature) at the same moment, and each answer is timed from
send to response. HubSpot sends at most 100 events a request and counts a slow answer as a failed
delivery (its webhooks overview gave one second: https://developers.hubspot.com/docs/methods/
webhooks/webhooks-overview, "Retries"), so the answers must come well inside a second: the
endpoint only stores the notifications.

Then this process runs the app's scheduled jobs (the same ticker `rebound serve` runs every 30 s)
until every deal's offer is in Slack: the CRM job reads each deal and its owner with the official
client, looks the owners up with users.lookupByEmail, and queues the offers; the outbox sends them
(REBOUND_SEND_RATE raised so the bench measures Rebound, not the pacing). Every request is then
sent again, as HubSpot's retries would be, and the jobs run once more: nothing new may go out.

    .venv/bin/python bench/crm_burst.py
    .venv/bin/python bench/crm_burst.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Last line: `crm burst: events 1000, dms D, duplicates 0, p99 answer X ms` (exit 1 unless D is
1000 and there are no duplicates). All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from bot.app import Deps, build_ticker
from bot.config import load_settings
from storage.db import make_engine, make_session_factory
from testkit.hubspot_standin import HubSpotStandIn, deal_stage_event, signed_webhook
from testkit.live import app_env, make_standin, serve_process
from testkit.standin import StandInUser

PUBLIC_URL = "https://rebound.example.com"
SECRET = "bench-client-secret-" + uuid.uuid4().hex
REQUESTS, EVENTS_PER_REQUEST, OWNERS = 10, 100, 50
OFFER_WORDS = "Debrief it while it's fresh?"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--time-limit", type=float, default=300.0)
    args = parser.parse_args()

    slack = make_standin()
    hubspot = HubSpotStandIn().start()
    run = uuid.uuid4().hex[:6]
    for index in range(OWNERS):
        email = f"rep{index}-{run}@example.com"
        slack.add_user(
            StandInUser(id=f"U0B{index:03d}", name=f"rep{index}", real_name="Rep", email=email)
        )
        hubspot.add_owner(str(9000 + index), email)
    batches: list[bytes] = []
    for request in range(REQUESTS):
        events = []
        for offset in range(EVENTS_PER_REQUEST):
            number = request * EVENTS_PER_REQUEST + offset
            deal_id = str(5_000_000 + number)
            hubspot.add_deal(
                deal_id,
                f"Burst deal {number} {run}",
                amount=str(1000 + number),
                currency="GBP",
                reason="Price",
                owner_id=str(9000 + number % OWNERS),
            )
            events.append(deal_stage_event(deal_id))
        batches.append(json.dumps(events).encode())

    with tempfile.TemporaryDirectory() as folder:
        database_url = args.database_url or f"sqlite:///{Path(folder) / 'burst.db'}"
        signing_secret = secrets.token_hex(16)
        env = app_env(slack, database_url, signing_secret)
        env.update(
            REBOUND_PUBLIC_URL=PUBLIC_URL,
            HUBSPOT_CLIENT_SECRET=SECRET,
            HUBSPOT_ACCESS_TOKEN=hubspot.access_token,
            HUBSPOT_API_URL=hubspot.url,
            REBOUND_SEND_RATE="1000",
        )
        with serve_process(env, Path(folder), signing_secret) as app:
            target = f"{app.base_url}/crm/hubspot"
            answers: list[tuple[int, float]] = []
            lock = threading.Lock()
            start = threading.Barrier(REQUESTS)

            def deliver(body: bytes) -> None:
                start.wait()
                reply = signed_webhook(target, f"{PUBLIC_URL}/crm/hubspot", SECRET, body)
                with lock:
                    answers.append((reply.status, reply.seconds))

            threads = [threading.Thread(target=deliver, args=(b,)) for b in batches]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            statuses = Counter(status for status, _ in answers)
            times_ms = [seconds * 1000 for _, seconds in answers]
            print(f"answers: {dict(statuses)}; max {max(times_ms):.1f} ms", flush=True)

            settings = load_settings(app.env)
            engine = make_engine(database_url)
            deps = Deps(settings=settings, session_factory=make_session_factory(engine))
            ticker = build_ticker(deps)
            began = time.monotonic()

            def offers() -> list[str]:
                return [
                    call.params.get("text") or ""
                    for call in slack.calls_to("chat.postMessage")
                    if OFFER_WORDS in (call.params.get("text") or "")
                ]

            while len(offers()) < REQUESTS * EVENTS_PER_REQUEST:
                if time.monotonic() - began > args.time_limit:
                    print("time limit reached", flush=True)
                    break
                ticker.tick()
            print(
                f"offers in Slack after {time.monotonic() - began:.1f} s of jobs; "
                f"HubSpot API requests: {len(hubspot.calls)}",
                flush=True,
            )
            # HubSpot's retries of every request: stored already, no second effect.
            replays = [
                signed_webhook(target, f"{PUBLIC_URL}/crm/hubspot", SECRET, body)
                for body in batches
            ]
            replayed = sum(json.loads(r.body).get("replayed", 0) for r in replays)
            print(f"replayed requests: {len(replays)}, events seen before: {replayed}", flush=True)
            ticker.tick()
            ticker.tick()
            engine.dispose()
    texts = offers()
    duplicates = len(texts) - len(set(texts))
    hubspot.stop()
    slack.stop()
    events = REQUESTS * EVENTS_PER_REQUEST
    p99 = percentile(times_ms, 0.99)
    print(
        f"crm burst: events {events}, dms {len(texts)}, duplicates {duplicates}, "
        f"p99 answer {p99:.0f} ms",
        flush=True,
    )
    failed = statuses != Counter({200: REQUESTS})
    return 1 if failed or duplicates or len(texts) != events else 0


if __name__ == "__main__":
    sys.exit(main())
