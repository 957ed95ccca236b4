"""A steady stream of requests, as users send them, while deploys run (serve.yml).

    traffic.py --url URL [--url URL ...] --stop FILE --out FILE [--clients N] [--max-seconds S]

Each URL gets N clients, each in a loop: one request on a new connection, wait for the answer
(up to 30 s), the next. The loop is bounded: it ends when FILE exists or after S seconds. Then
it writes, per URL, the requests answered and failed, the longest wait, the releases that
answered (the page's `release`) and the first errors, each with the time its request was sent
(UTC, to the millisecond: profile_tasks dates each step of the deploy in the log, to the second),
as JSON to the out file.
"""

import argparse
import json
import os
import threading
import time
import urllib.request
from datetime import datetime, timezone

TIMEOUT = 30


def client(url, stop, deadline, seen, lock):
    while not os.path.exists(stop) and time.monotonic() < deadline:
        sent = datetime.now(timezone.utc)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                release = json.load(response).get("release")
            error = None
        except Exception as failure:  # every way a request can fail counts as one failure
            release, error = None, "%s %s: %s" % (sent.strftime("%H:%M:%S.%f")[:-3], type(failure).__name__, failure)
        waited = time.monotonic() - started
        with lock:
            seen["longest_wait"] = max(seen["longest_wait"], waited)
            if error:
                seen["failed"] += 1
                if len(seen["errors"]) < 5:
                    seen["errors"].append(error)
            else:
                seen["answered"] += 1
                seen["releases"][release] = seen["releases"].get(release, 0) + 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", action="append", required=True)
    parser.add_argument("--stop", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args()
    deadline = time.monotonic() + args.max_seconds
    lock = threading.Lock()
    results = {url: {"answered": 0, "failed": 0, "longest_wait": 0.0, "releases": {}, "errors": []}
               for url in args.url}
    threads = [threading.Thread(target=client, args=(url, args.stop, deadline, results[url], lock))
               for url in args.url for client_number in range(args.clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for seen in results.values():
        seen["longest_wait"] = round(seen["longest_wait"], 3)
    with open(args.out, "w") as handle:
        json.dump({"seconds": round(time.monotonic() - started, 1), "urls": results}, handle, indent=2)


if __name__ == "__main__":
    main()
