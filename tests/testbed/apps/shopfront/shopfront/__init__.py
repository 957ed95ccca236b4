"""A small WSGI shop front: it answers with its release, the private library's greeting and the
directory it runs from, and has a health endpoint for deploy checks.

    gunicorn -b 127.0.0.1:8000 shopfront:app
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


def _respond(start_response, status, body):
    payload = (json.dumps(body, sort_keys=True) + "\n").encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/health":
        if HEALTHY:
            return _respond(start_response, "200 OK", {"healthy": True})
        return _respond(start_response, "503 Service Unavailable", {"healthy": False})
    return _respond(start_response, "200 OK", {
        "release": RELEASE,
        "greeting": greeting(os.environ.get("SHOPFRONT_CUSTOMER", "world")),
        "library": LIBRARY_VERSION,
        "directory": os.getcwd(),
        "uptime": humanize.naturaldelta(time.monotonic() - STARTED),
    })
