"""What building once saves a fleet, and what a deploy with nothing to do costs on four hosts
next to one, with the lockstep.poetry.app role and bench/deploy.py's application.

    python3 bench/fleet.py [--keep] [--profile]

Uses bench/deploy.py's machinery (the development virtualenv and a collection view, a private
index of its own, Poetry 2.5.1, the sample application with 40+ locked packages, and
bench/deploy.yml) on four inventory hosts on this machine: connection local, as the current
user, each with an application directory of its own, so with a Poetry cache of its own that
starts empty (the role keeps it there): each resolves and downloads by itself, as real hosts
would. ansible-playbook runs with --forks 4. Steps:

    fresh       empty hosts, an empty controller cache: each host runs Poetry
                (poetry_app_build_on: host), or the controller builds once
                (poetry_app_build_on: controller, its cache of wheelhouses empty too)
    no-change   the same release again, on one host and on all four, in each mode
    verify      the lockstep.poetry.verify playbook on one host and on all four (build once's
                hosts): not a target, its cost per host

Each step runs several times (fresh three times in each mode, from scratch each time, the modes taking
turns; the others three times) and the least time of each counts, as in bench/deploy.py. The
index sits behind a counting proxy in this process (the lock names the proxy's address), which
counts the requests each run sends to the index and the bytes of their answers. Prints the times,
the index's load and the ratios build once / each host on four hosts (target at most 0.5) and no
change on four hosts / on one (target at most 2.0, in each mode), all measured in this run, and
exits 1 when a target is missed. As in bench/deploy.py, the targets are judged on the wall clock
and the ratios of the role's own time are printed beside them. Everything is removed afterwards,
the index stopped, unless --keep.
"""

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import deploy as bench  # noqa: E402  (bench/deploy.py, beside this file)

CACHE = bench.ROOT / ".cache" / "bench-fleet"
HOSTS = ["host%d" % number for number in range(1, 5)]
FORKS = 4
# Where the virtualenv is built (poetry_app_build_on), in the order the fresh runs take turns.
MODES = ("host", "controller")
TARGETS = {"build once / each host (fresh, 4 hosts)": 0.5, "4 hosts / 1 host (no change)": 2.0}
RUNS = {"fresh": 3, "no-change": 3, "verify": 3}
# Headers that belong to one connection, not to the request or answer the proxy passes on.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "content-length", "server", "date"}


class CountingProxy(ThreadingHTTPServer):
    """Passes each request on to the index and counts the requests and the bytes answered."""

    daemon_threads = True
    # Connections waiting to be accepted: socketserver's default (5) would drop the ones that
    # hosts downloading side by side open at once, and each would wait a second to try again.
    request_queue_size = 128

    def __init__(self, upstream):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.upstream = urllib.parse.urlsplit(upstream)
        self.url = "http://127.0.0.1:%d/" % self.server_address[1]
        self.counted = threading.Lock()
        self.requests = self.bytes = 0

    def count(self, size):
        with self.counted:
            self.requests += 1
            self.bytes += size

    def take(self):
        """The requests and bytes since the last take."""
        with self.counted:
            counts, self.requests, self.bytes = (self.requests, self.bytes), 0, 0
        return counts


class ProxyHandler(BaseHTTPRequestHandler):

    def do_GET(self):
        length = int(self.headers.get("Content-Length") or 0)
        headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
        # The Host header goes on as it came: the index's links and redirects name the proxy.
        upstream = http.client.HTTPConnection(self.server.upstream.hostname, self.server.upstream.port,
                                              timeout=120)
        try:
            upstream.request(self.command, self.path, body=self.rfile.read(length) if length else None,
                             headers=headers)
            answer = upstream.getresponse()
            body = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.server.count(len(body))

    do_HEAD = do_POST = do_GET

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


def inventory(path, root):
    """Four hosts on this machine, each deploying into a directory of its own under root."""
    hosts = {}
    for host in HOSTS:
        # bench_root for bench/deploy.yml, poetry_app_root for the verify playbook.
        hosts[host] = {"ansible_connection": "local", "bench_root": str(root / host),
                       "poetry_app_root": str(root / host)}
    path.write_text(json.dumps({"fleet": {"hosts": hosts}}, indent=2))


def least(runs):
    """The least wall clock and the least role time of a step's runs."""
    return tuple(min(column) for column in zip(*runs))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the deployed hosts and the index")
    parser.add_argument("--profile", action="store_true", help="time every task (see bench/deploy.py)")
    args = parser.parse_args()

    venv, view = bench.development_environment(CACHE)
    python = venv / "bin/python"
    index = CACHE / "index"
    subprocess.run([str(python), str(bench.ROOT / "tests/testbed/index.py"), "start", "--dir", str(index)],
                   check=True)
    index_state = json.loads((index / "state.json").read_text())
    proxy = CountingProxy(index_state["url"])
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    work = Path(tempfile.mkdtemp(prefix="lockstep-bench-fleet."))
    runs, load = {}, {}
    try:
        poetry = CACHE / "poetry" / "2.5.1"
        subprocess.run([str(bench.ROOT / "tests/testbed/poetry.sh"), "2.5.1", str(poetry)], check=True)
        # The application is locked against the proxy, so that every request for it is counted.
        proxied = work / "index.json"
        proxied.touch(mode=0o600)
        proxied.write_text(json.dumps(dict(index_state, url=proxy.url, simple_url=proxy.url + "simple/")))
        bench.render(python, proxied, poetry / "bin/poetry", work / "app", "1")
        packages = bench.locked_packages(work / "app")
        bench.log("application with %d locked packages, %d hosts, forks %d" % (packages, len(HOSTS), FORKS))
        for mode in MODES:
            (work / mode).mkdir()
            inventory(work / mode / "inventory.json", work / mode / "srv")
        caches = {}

        def run(step, mode, hosts, number):
            os.environ["XDG_CACHE_HOME"] = caches[mode]["controller"]
            variables = work / ("%d-%s-%s.json" % (number, step, mode))
            variables.write_text(json.dumps({
                "bench_hosts": hosts,
                "bench_build_on": mode,
                "bench_build_cache": caches[mode]["build"],
                "bench_source": str(work / "app"),
                "bench_index_username": index_state["username"],
                "bench_index_password": index_state["password"],
                "bench_poetry": str(poetry / "bin/poetry"),
                "bench_python": os.path.realpath(sys.executable),
            }))
            size = len(HOSTS) if hosts == "fleet" else 1
            proxy.take()
            measured = bench.deploy(venv, view, variables, work / ("%d-%s-%s.log" % (number, step, mode)),
                                    args.profile, "-i", str(work / mode / "inventory.json"),
                                    "--forks", str(FORKS))
            runs.setdefault((step, mode, size), []).append(measured)
            load.setdefault((step, mode, size), []).append(proxy.take())
            bench.log("%-9s on %d, built on %-10s %6.1f s (the role: %.1f s); the index: %d requests, %d bytes"
                      % ((step, size, mode) + measured + load[(step, mode, size)][-1]))

        number = 0
        for _round in range(RUNS["fresh"]):
            for mode in MODES:
                # Empty hosts (each with the empty Poetry cache the role keeps in its directory),
                # an empty cache of packed releases and of wheelhouses on the controller.
                shutil.rmtree(work / mode / "srv", ignore_errors=True)
                caches[mode] = {key: str(work / mode / ("%s-cache-%d" % (key, number)))
                                for key in ("controller", "build")}
                run("fresh", mode, "fleet", number)
                number += 1
        for _round in range(RUNS["no-change"]):
            for mode in MODES:
                for hosts in (HOSTS[0], "fleet"):
                    run("no-change", mode, hosts, number)
                    number += 1

        verify = {}
        for attempt in range(RUNS["verify"]):
            for hosts in (HOSTS[0], "fleet"):
                verify.setdefault(hosts, []).append(bench.playbook(
                    venv, view, view / "playbooks/verify.yml", work / ("verify-%s-%d.log" % (hosts, attempt)),
                    "-i", str(work / "controller" / "inventory.json"), "--forks", str(FORKS),
                    "-e", "poetry_app_name=shopfront", "-e", "poetry_verify_hosts=%s" % hosts,
                    profile=args.profile))
    finally:
        proxy.shutdown()
        if args.keep:
            bench.log("kept %s and the index in %s" % (work, index))
        else:
            shutil.rmtree(work, ignore_errors=True)
            bench.stop_index(python, CACHE)

    fleet = len(HOSTS)
    missed = []
    print("%d locked packages, %d hosts, forks %d" % (packages, fleet, FORKS))
    for mode, words in (("host", "each host runs Poetry"), ("controller", "built once on the controller")):
        requests, size = load[("fresh", mode, fleet)][-1]
        print("fresh on %d hosts, %-28s %6.1f s wall clock, %6.1f s in the role; the index: %d requests, %.1f MB"
              % ((fleet, words) + least(runs[("fresh", mode, fleet)]) + (requests, size / 1e6)))
    name = "build once / each host (fresh, 4 hosts)"
    if not bench.judge("%-40s" % name, least(runs[("fresh", "controller", fleet)]), least(runs[("fresh", "host", fleet)]),
                       TARGETS[name]):
        missed.append(name)
    for mode in MODES:
        one, four = least(runs[("no-change", mode, 1)]), least(runs[("no-change", mode, fleet)])
        print("no change, built on %-10s 1 host %.1f s, %d hosts %.1f s wall clock (the role: %.1f s, %.1f s); "
              "the index: %d requests" % (mode, one[0], fleet, four[0], one[1], four[1],
                                          sum(requests for requests, _size in load[("no-change", mode, fleet)])))
        name = "4 hosts / 1 host (no change, %s)" % mode
        if not bench.judge("%-40s" % name, four, one, TARGETS["4 hosts / 1 host (no change)"]):
            missed.append(name)
    one, four = min(verify[HOSTS[0]]), min(verify["fleet"])
    print("verify playbook: 1 host %.1f s, %d hosts %.1f s wall clock (%.2f s for each host beyond the first)"
          % (one, fleet, four, (four - one) / (fleet - 1)))
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
