"""The `rebound` command line."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from dotenv import load_dotenv

from bot.clock import Clock, utc_now
from bot.config import ConfigError, Settings, load_logging, load_port, load_settings
from bot.logs import configure_logging

log = logging.getLogger("rebound")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rebound",
        description="Rebound: loss debriefs, check-ins and recognition for sales teams, in Slack.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "start",
        help="the main job: the bot when .env has Slack tokens, else the offline demo",
    )
    run = sub.add_parser("run", help="run the bot in Socket Mode (needs SLACK_APP_TOKEN)")
    serve = sub.add_parser("serve", help="run the bot in HTTP mode on a production server")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT, else 3000")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    for mode in (serve, run):
        mode.add_argument(
            "--no-scheduler",
            action="store_true",
            default=_scheduler_disabled_by_env(),
            help="don't run scheduled work in this process (env REBOUND_SCHEDULER=off)",
        )
    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", metavar="TASK", required=True)
    db_sub.add_parser("upgrade", help="apply the Alembic migrations")
    tick = sub.add_parser(
        "tick",
        help="run every scheduled job once and exit (for cron-driven deployments)",
    )
    tick.add_argument(
        "--at",
        default=None,
        help="the time to run the jobs for, ISO-8601 with an offset (default: now)",
    )
    demo = sub.add_parser("demo", help="play a scripted week offline and print what people see")
    demo.add_argument("--out", default=None, help="folder for the transcript (default: a temp dir)")
    demo.add_argument("--quiet", action="store_true", help="print only the summary")
    return parser


def _scheduler_disabled_by_env() -> bool:
    return os.environ.get("REBOUND_SCHEDULER", "on").strip().lower() in ("off", "0", "false", "no")


def main(argv: Sequence[str] | None = None, *, clock: Clock = utc_now) -> int:
    """The `rebound` command. `clock` is the app's source of "now": the wall clock, except
    when the test kit starts the app on a test's clock (testkit.clocked_cli)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    load_dotenv(".env", override=False)
    try:
        configure_logging(*load_logging(os.environ))
        settings = load_settings(os.environ)
        if getattr(args, "port", None) is None and args.command in ("serve", "start"):
            args.port = load_port(os.environ)
        return _dispatch(args, settings, clock)
    except ConfigError as error:
        print(f"rebound: configuration error — {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    command = args.command
    if command == "start":
        if not settings.has_slack_tokens:
            return _demo(out=os.environ.get("REBOUND_DEMO_OUT"), quiet=False)
        command = "run" if settings.slack_app_token else "serve"
        args.host, args.threads = "0.0.0.0", 8
        args.no_scheduler = _scheduler_disabled_by_env()
    if command == "db":
        from bot.runtime import prepare_database

        prepare_database(settings)
        print(f"Database is up to date ({_safe_url(settings.database_url)}).")
        return 0
    if command == "run":
        settings.require_socket_mode()
        return _run_socket_mode(settings, clock, scheduler=not args.no_scheduler)
    if command == "serve":
        settings.require_http_mode()
        return _serve(
            settings,
            clock,
            host=args.host,
            port=args.port,
            threads=args.threads,
            scheduler=not args.no_scheduler,
        )
    if command == "demo":
        return _demo(out=args.out, quiet=args.quiet)
    if command == "tick":
        return _tick(settings, clock, at=args.at)
    raise AssertionError(command)


def _run_socket_mode(settings: Settings, clock: Clock, *, scheduler: bool) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.runtime import build_runtime

    runtime = build_runtime(settings, clock=clock)
    runtime.start_dispatcher()
    if scheduler:
        runtime.start_scheduler()
    _freeze_startup_heap()
    log.info("Rebound is running in Socket Mode; Ctrl-C stops it.")
    try:
        SocketModeHandler(runtime.app, settings.slack_app_token).start()
    finally:
        runtime.close()
    return 0


def _freeze_startup_heap() -> None:
    """Move everything built at start-up (modules, SQLAlchemy and Bolt objects, ~125,000 of
    them) out of the garbage collector's sight: they live as long as the process, yet each full
    collection would walk them all (48-330 ms per collection at start-up on a busy 2-core
    machine), a pause for whichever acks are in flight. gc.freeze() is the standard library's
    way (https://docs.python.org/3/library/gc.html#gc.freeze); objects made later, per request,
    are still collected."""
    gc.collect()
    gc.freeze()


def _serve(
    settings: Settings, clock: Clock, *, host: str, port: int, threads: int, scheduler: bool
) -> int:
    from bot.runtime import build_runtime
    from bot.server import make_http_server, make_wsgi_app

    runtime = build_runtime(settings, clock=clock)
    hubspot, salesforce = _crm_endpoints(settings, runtime)
    runtime.start_dispatcher()
    if scheduler:
        runtime.start_scheduler()
    _freeze_startup_heap()
    server = make_http_server(
        make_wsgi_app(
            runtime.app,
            runtime.engine,
            settings.slack_signing_secret or "",
            runtime.deps.metrics,
            hubspot=hubspot,
            salesforce=salesforce,
        ),
        host=host,
        port=port,
        threads=threads,
    )
    # Tests and scripts read this line to learn the port when --port 0 is given.
    print(f"Rebound listening on http://{host}:{server.effective_port}", flush=True)
    try:
        server.run()
    finally:
        server.close()
        runtime.close()
    return 0


def _crm_endpoints(settings: Settings, runtime: Any) -> tuple[Any, Any]:
    """`/crm/hubspot` and `/crm/salesforce/<token>`: for the bot token's one workspace from the
    HUBSPOT_* / SALESFORCE_* settings, or, with many workspaces (OAuth mode), for the CRMs each
    workspace connected in `/rebound settings` (bot.usecases.crm_connections)."""
    from bot.server import HubSpotEndpoint, SalesforceEndpoint

    if runtime.team_id is None:
        return _routed_crm_endpoints(settings, runtime)
    hubspot = salesforce = None
    if settings.hubspot_enabled and settings.public_url:
        hubspot = HubSpotEndpoint(
            client_secret=settings.hubspot_client_secret or "",
            public_url=settings.public_url,
            team_id=runtime.team_id,
            uow=runtime.deps.uow,
        )
    if settings.salesforce_enabled:
        salesforce = SalesforceEndpoint(
            token=settings.salesforce_outbound_token or "",
            org_id=settings.salesforce_org_id,
            owner_email_field=settings.salesforce_owner_email_field,
            api_url=settings.salesforce_api_url,
            team_id=runtime.team_id,
            uow=runtime.deps.uow,
        )
    return hubspot, salesforce


def _routed_crm_endpoints(settings: Settings, runtime: Any) -> tuple[Any, Any]:
    from functools import partial

    from bot.domain.crm_connections import DEFAULT_OWNER_EMAIL_FIELD
    from bot.server import HubSpotEndpoint, SalesforceEndpoint
    from bot.usecases.crm_connections import hubspot_routes, make_cipher, salesforce_route

    if not settings.oauth_mode or not settings.encryption_key:
        return None, None
    if settings.hubspot_access_token or settings.salesforce_outbound_token:
        log.warning(
            "HUBSPOT_ACCESS_TOKEN / SALESFORCE_OUTBOUND_TOKEN are one workspace's; with many "
            "workspaces each connects its own CRM in /rebound settings, and these are ignored"
        )
    if settings.salesforce_owner_email_field != DEFAULT_OWNER_EMAIL_FIELD:
        log.warning(
            "SALESFORCE_OWNER_EMAIL_FIELD is one workspace's; with many workspaces each sets "
            "its org's field in /rebound settings (CRM connection), and this is ignored"
        )
    cipher = make_cipher(settings.encryption_key)
    hubspot = None
    if settings.public_url:
        hubspot = HubSpotEndpoint(
            client_secret=settings.hubspot_client_secret or "",
            public_url=settings.public_url,
            team_id=None,
            uow=runtime.deps.uow,
            routes=partial(hubspot_routes, cipher=cipher),
        )
    else:
        # HubSpot signs the full URL it called: without the public address nothing verifies.
        log.warning("REBOUND_PUBLIC_URL is not set; /crm/hubspot is off")
    salesforce = SalesforceEndpoint(
        token="",
        org_id=None,
        owner_email_field=DEFAULT_OWNER_EMAIL_FIELD,  # each route (workspace) has its own
        api_url=settings.salesforce_api_url,
        team_id=None,
        uow=runtime.deps.uow,
        route=salesforce_route,
        seal_secret=settings.encryption_key,
    )
    return hubspot, salesforce


def _tick(settings: Settings, clock: Clock, *, at: str | None) -> int:
    """One tick of every scheduled job: the database says what is due and who sends it, so
    several of these (or several app processes) may run at once."""
    from datetime import UTC, datetime

    from bot.app import build_ticker
    from bot.clock import FakeClock
    from bot.runtime import build_deps, prepare_database

    if settings.oauth_mode:
        settings.require_encryption_key()
    elif not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN", "not set; scheduled jobs send to Slack with it")
    if at is None:
        moment = clock()
    else:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise ConfigError("--at", f"{at!r} is not an ISO-8601 time") from None
        if moment.tzinfo is None:
            raise ConfigError("--at", f"{at!r} has no UTC offset; add Z or +00:00")
        moment = moment.astimezone(UTC)
    prepare_database(settings)
    engine, deps = build_deps(settings, clock=FakeClock(moment))
    try:
        ticker = build_ticker(deps)
        ticker.tick()
    finally:
        engine.dispose()
    for name, error in ticker.failures:
        print(f"rebound: scheduled job {name} failed: {error}", file=sys.stderr)
    return 1 if ticker.failures else 0


def _demo(*, out: str | None, quiet: bool) -> int:
    # The demo drives the app through the test kit (the Slack stand-in, the signed-request
    # sender, the Block Kit renderer), which is a package of the checkout, not of the wheel:
    # imported here, on the demo's path only, so the product never needs it.
    try:
        from testkit.demo import run_demo
    except ModuleNotFoundError as error:
        if error.name is None or not error.name.startswith("testkit"):
            raise
        print("rebound: the offline demo runs from a checkout: ./start.sh", file=sys.stderr)
        return 2

    if "LOG_LEVEL" not in os.environ:
        # The transcript is the output; routine log lines would only interrupt it.
        logging.getLogger().setLevel(logging.WARNING)

    return run_demo(out_dir=out, quiet=quiet)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    raise SystemExit(main())
