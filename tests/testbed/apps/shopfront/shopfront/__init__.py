"""A small shop front (WSGI and ASGI): it answers with its release, the private library's greeting and the
directory it runs from, and has a health endpoint for deploy checks.

    gunicorn -b 127.0.0.1:8000 shopfront:app
    uvicorn --port 8000 shopfront:asgi
"""

import json
import os
import time

import humanize
from lockstep_sample_lib import __version__ as LIBRARY_VERSION
from lockstep_sample_lib import greeting

RELEASE = "1"
HEALTHY = True
STARTED = time.monotonic()


def _answer(path):
    """The status and the JSON body for a path."""
    if path == "/health":
        if HEALTHY:
            return 200, {"healthy": True}
        return 503, {"healthy": False}
    return 200, {
        "release": RELEASE,
        "greeting": greeting(os.environ.get("SHOPFRONT_CUSTOMER", "world")),
        "library": LIBRARY_VERSION,
        "directory": os.getcwd(),
        "uptime": humanize.naturaldelta(time.monotonic() - STARTED),
    }


def _payload(body):
    return (json.dumps(body, sort_keys=True) + "\n").encode()


def app(environ, start_response):
    """The shop front for a WSGI server: gunicorn shopfront:app."""
    status, body = _answer(environ.get("PATH_INFO"))
    payload = _payload(body)
    start_response("%d %s" % (status, "OK" if status == 200 else "Service Unavailable"),
                   [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


async def asgi(scope, receive, send):
    """The same shop front for an ASGI server: uvicorn shopfront:asgi."""
    if scope["type"] != "http":
        return
    status, body = _answer(scope["path"])
    payload = _payload(body)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
