"""What three services cost next to one in a code-only and a no-change deploy under systemd.

    python3 bench/services.py [--keep] [--profile]

bench/deploy.py measures the role without a service manager, on this machine. Services
(poetry_app_services) need systemd, so this benchmark starts a throwaway Debian 12 container of
the test bed (local/debian:bookworm with systemd as PID 1 on the host's network, as the
app_deploy Molecule scenario runs it: lockstep-bench-services), installs Poetry there with
lockstep.poetry.poetry (bench/services_host.yml), and deploys bench/deploy.py's application
(the same releases, the same lock) to it with bench/deploy.yml over the community.docker.docker
connection, as root, twice over:

    one service      web: Gunicorn behind a socket systemd holds, on 127.0.0.1:18495
    three services   web (on 127.0.0.1:18496), a worker, and a job on an hourly timer

Each goes through bench/deploy.py's steps and runs (fresh, code-only, no-change; the least time
of each counts), a fresh deploy starting with no units and no application directory on the
host, and an empty cache of packed releases on the controller. Before a release takes
traffic, the role checks web's /health. Prints each step's least times, each line's ratios to
its own fresh deploy (with bench/deploy.py's targets, judged on the wall clock) and the ratios
three services / one service for code-only and no-change deploys; exits 1 when a target is
missed. The container is removed and the index stopped afterwards, unless --keep.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import deploy as bench  # noqa: E402  (bench/deploy.py, beside this file)

CACHE = bench.ROOT / ".cache" / "bench-services"
CONTAINER = "lockstep-bench-services"
IMAGE = "local/debian:bookworm"
APP = "shopfront"
WEB = "gunicorn --workers 2 shopfront:app"
# The two lines measured, each with the port its web service listens on.
SHAPES = {
    "one service": ({"web": {"command": WEB}}, 18495),
    "three services": ({
        "web": {"command": WEB},
        "worker": {"command": ["python", "-c", "import time, shopfront\nwhile True: time.sleep(60)"]},
        "cleanup": {"command": ["python", "-c", "import shopfront"], "schedule": "hourly"},
    }, 18496),
}
# What a fresh deploy starts from on the host: none of the application's units, no directory.
CLEAN_HOST = """
cd /etc/systemd/system
units=$(ls -d {app}.* {app}-* 2>/dev/null || true)
[ -z "$units" ] || systemctl disable --now $units >/dev/null 2>&1 || true
rm -rf $units /srv/{app}
systemctl daemon-reload
systemctl reset-failed
""".format(app=APP)


def on_host(script):
    subprocess.run(["docker", "exec", CONTAINER, "bash", "-euc", script], check=True,
                   stdout=subprocess.DEVNULL)


def start_container():
    """The systemd container, as scripts/demo starts its own; waits for systemd to be up."""
    subprocess.run([str(bench.ROOT / "tests/testbed/hosts.sh"), "images", IMAGE.split(":")[1]], check=True)
    subprocess.run(["docker", "rm", "-f", CONTAINER], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    subprocess.run([
        "docker", "run", "--detach", "--name", CONTAINER, "--network", "host",
        "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
        "--cgroupns", "host", "--volume", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
        # pip's cache, shared with the test bed's containers: Poetry comes from PyPI.
        "--volume", "/var/tmp/lockstep-testbed/pip-cache:/root/.cache/pip",
        "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp", IMAGE, "/lib/systemd/systemd",
    ], check=True, stdout=subprocess.DEVNULL)
    for _attempt in range(60):
        state = subprocess.run(["docker", "exec", CONTAINER, "systemctl", "is-system-running"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False)
        if state.stdout.strip() in ("running", "degraded"):
            return
        time.sleep(1)
    raise SystemExit("systemd in %s did not come up (state: %s); see docker logs %s"
                     % (CONTAINER, state.stdout.strip() or "unknown", CONTAINER))


def role_settings(services, port):
    """The role's variables for one line, over bench/deploy.yml's (extra variables win)."""
    web = dict(services["web"], listen="127.0.0.1:%d" % port)
    return {
        "poetry_app_user": APP,
        "poetry_app_create_user": True,
        "poetry_app_service_manager": "systemd",
        "poetry_app_services": dict(services, web=web),
        "poetry_app_healthcheck_command": [],
        "poetry_app_healthcheck_url": "http://127.0.0.1:%d/health" % port,
    }


def measure(venv, view, work, releases, settings, inventory, label, profile):
    """bench/deploy.py's steps and runs on the container; returns each step's least (wall, role)."""
    plan = ([("fresh", releases[0])] * bench.RUNS["fresh"] + [("code-only", release) for release in releases[1:]]
            + [("no-change", releases[-1])] * bench.RUNS["no-change"])
    runs = {}
    for number, (step, release) in enumerate(plan):
        name = "%s-%d-%s" % (label.replace(" ", "-"), number, step)
        if step == "fresh":
            on_host(CLEAN_HOST)
            os.environ["XDG_CACHE_HOME"] = str(work / ("controller-cache-" + name))
        variables = work / (name + ".json")
        variables.write_text(json.dumps(dict(settings, bench_source=str(work / release))))
        measured = bench.deploy(venv, view, variables, work / (name + ".log"), profile, "-i", str(inventory))
        runs.setdefault(step, []).append(measured)
        bench.log("%s: %-9s %6.1f s (the role: %.1f s)" % ((label, step) + measured))
    return {step: tuple(min(column) for column in zip(*measured)) for step, measured in runs.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the container and the index")
    parser.add_argument("--profile", action="store_true", help="time every task (see bench/deploy.py)")
    args = parser.parse_args()

    venv, view = bench.development_environment(CACHE)
    python = venv / "bin/python"
    work = Path(tempfile.mkdtemp(prefix="lockstep-bench-services."))
    try:
        index_state, _index, releases = bench.sample_application(python, CACHE, work)
        start_container()
        inventory = work / "inventory.json"
        inventory.write_text(json.dumps({"all": {"hosts": {CONTAINER: {
            "ansible_connection": "community.docker.docker",
            "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_pipelining": True,
        }}}}))
        bench.log("installing Poetry in %s" % CONTAINER)
        bench.playbook(venv, view, bench.ROOT / "bench/services_host.yml", work / "host.log", "-i", str(inventory),
                       "-e", "bench_hosts=" + CONTAINER)
        common = {
            "bench_hosts": CONTAINER,
            "bench_root": "/srv/" + APP,
            "bench_index_username": index_state["username"],
            "bench_index_password": index_state["password"],
            "bench_poetry": "/usr/local/bin/poetry",
            "bench_python": "/usr/bin/python3",
        }
        times = {label: measure(venv, view, work, releases, dict(common, **role_settings(*shape)), inventory,
                                label, args.profile)
                 for label, shape in SHAPES.items()}
    finally:
        if args.keep:
            bench.log("kept %s, the container %s and the index in %s" % (work, CONTAINER, CACHE / "index"))
        else:
            subprocess.run(["docker", "rm", "-f", CONTAINER], stdout=subprocess.DEVNULL, check=False)
            shutil.rmtree(work, ignore_errors=True)
            bench.stop_index(python, CACHE)

    missed = []
    for label, steps in times.items():
        print("%s: fresh deploy %.1f s wall clock, %.1f s in the role" % ((label,) + steps["fresh"]))
        for step, target in bench.TARGETS.items():
            if not bench.judge("%s: %-9s / fresh:" % (label, step), steps[step], steps["fresh"], target):
                missed.append((label, step))
    one, three = times["one service"], times["three services"]
    for step in bench.TARGETS:
        print("three services / one service, %-9s: %5.2f wall clock (%.1f s / %.1f s), %5.2f the role "
              "(%.1f s / %.1f s)" % (step, three[step][0] / one[step][0], three[step][0], one[step][0],
                                     three[step][1] / one[step][1], three[step][1], one[step][1]))
    raise SystemExit(1 if missed else 0)


if __name__ == "__main__":
    main()
