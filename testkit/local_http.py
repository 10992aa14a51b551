"""The HTTP server every local stand-in listens with (Slack, HubSpot, Salesforce, the live
app's forwarder)."""

from __future__ import annotations

from http.server import ThreadingHTTPServer


class LocalHTTPServer(ThreadingHTTPServer):
    """A threading server with a listen backlog of 1024 instead of socketserver's 5: beyond 5
    connections waiting to be accepted the kernel drops the SYN and the caller tries again after
    TCP's 1 s initial timeout, so a burst of calls (an app's listener threads, a benchmark's
    senders) took 1 s longer for the stand-in's sake. The services stood in for take every
    connection; so do their stand-ins."""

    daemon_threads = True
    request_queue_size = 1024
