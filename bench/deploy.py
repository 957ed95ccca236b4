"""What a code-only release and a run with nothing to do cost next to a fresh deploy, with
the lockstep.poetry.app role and an application of 40-odd locked packages.

    python3 bench/deploy.py [--keep] [--profile]

Runs from a clean checkout with nothing but python3 (and python3-venv): it makes the
development virtualenv and the collection view (scripts/lib.sh), starts its own private index
(tests/testbed/index.py), installs Poetry 2.5.1 for the controller (tests/testbed/poetry.sh),
renders the sample application (tests/testbed/apps/render.py) with 40+ locked packages
(requests, rich, httpx, pytest, structlog, ...), and then deploys it with bench/deploy.yml
to localhost (connection local, as the current user, with the Python that runs the benchmark,
poetry_app_service_manager none, into a temporary directory; the health check imports the
application in its virtualenv):

    fresh       an empty application directory and an empty Poetry cache
    code-only   a release whose code changed and whose lock did not
    no-change   the same release again

Each step is one ansible-playbook run, timed on the wall clock (which includes starting
ansible-playbook, about as long as a run with nothing to do) and by the playbook itself around
the role. Each step runs several times (fresh twice, from scratch each time; code-only three
times, each with a release of its own; no-change three times) and the least time of each
counts, as timeit does: what a machine busy with something else adds is noise, not cost.
Prints both and the ratios code-only/fresh (target at most 0.15) and
no-change/fresh (target at most 0.10) for each, measured in this run, and exits 1 when a
target is missed. The targets are judged on the wall clock: a deploy as a user waits for it, one
ansible-playbook run with its start-up. The ratios of the role's own time are printed beside
them, not judged: they show what the role costs without that start-up. Also prints what
ansible-playbook costs with a play of one task, which every wall clock time includes and no role
can reduce. Everything is removed afterwards, the index stopped, unless --keep.

--profile times every task (the ansible.posix.profile_tasks callback, in each step's log, kept
with --keep). It is off by default: the callback itself adds a sixth of a second or more to every
run, which would count against the role.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench-deploy"
TARGETS = {"code-only": 0.15, "no-change": 0.10}
# How often each step runs; the least time of each counts.
RUNS = {"fresh": 2, "code-only": 3, "no-change": 3}
# Public dependencies of the benchmark's application, on top of the sample app's own
# (gunicorn, humanize, lockstep-sample-lib): every one comes from the test index's mirror.
DEPENDENCIES = [
    "requests", "rich", "httpx", "pytest", "structlog", "python-dateutil", "tabulate",
    "tenacity", "click", "python-dotenv", "jmespath", "attrs", "cachetools", "toml",
    "filelock", "platformdirs", "distlib", "pytz", "tzdata", "more-itertools",
    "itsdangerous", "blinker", "decorator", "wcwidth", "importlib-metadata", "colorama",
]


def log(message):
    print("[bench] %s" % message, file=sys.stderr, flush=True)


def development_environment(cache=CACHE):
    """The dev virtualenv and a collection view of the working tree (one view per cache
    directory); returns (venv, view)."""
    script = '. scripts/lib.sh && ensure_venv >&2 && sync_view && echo "$VENV" && echo "$VIEW"'
    env = dict(os.environ, LOCKSTEP_CACHE=str(cache))
    out = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, check=True,
                         stdout=subprocess.PIPE, text=True).stdout.split()
    return Path(out[-2]), Path(out[-1])


def render(python, state, poetry, dest, release):
    args = [str(python), str(ROOT / "tests/testbed/apps/render.py"), "--index-state", str(state),
            "--poetry", str(poetry), "--dest", str(dest), "--release", release]
    for package in DEPENDENCIES:
        args += ["--with", package]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def locked_packages(project):
    return (project / "poetry.lock").read_text().count("\n[[package]]\n") + 1


def sample_application(python, cache, work):
    """Starts the benchmark's index (in cache/index), installs Poetry 2.5.1 for the controller (in
    cache/poetry) and renders the application into work: a release for the fresh deploy and one
    for each code-only run (the same lock, other code). Returns the index's state, Poetry's
    directory and the releases' names."""
    state = cache / "index" / "state.json"
    subprocess.run([str(python), str(ROOT / "tests/testbed/index.py"), "start", "--dir", str(state.parent)],
                   check=True)
    poetry = cache / "poetry" / "2.5.1"
    subprocess.run([str(ROOT / "tests/testbed/poetry.sh"), "2.5.1", str(poetry)], check=True)
    releases = ["v%d" % (number + 1) for number in range(1 + RUNS["code-only"])]
    for release in releases:
        render(python, state, poetry / "bin/poetry", work / release, release[1:])
    log("application with %d locked packages" % locked_packages(work / "v1"))
    return json.loads(state.read_text()), poetry, releases


def stop_index(python, cache):
    subprocess.run([str(python), str(ROOT / "tests/testbed/index.py"), "stop", "--dir", str(cache / "index")],
                   check=False)


def playbook(venv, view, path, log_file, *args, profile=False):
    """Runs one playbook against localhost; returns its wall time in seconds."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(view.parents[2]), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_PYTHON_INTERPRETER=str(venv / "bin/python"))
    if profile:
        env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"
    started = time.monotonic()
    with open(log_file, "w") as output:
        result = subprocess.run(
            [str(venv / "bin/ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)] + list(args),
            env=env, stdout=output, stderr=subprocess.STDOUT, check=False)
    if result.returncode:
        sys.exit("%s failed; see %s" % (path, log_file))
    return time.monotonic() - started


def deploy(venv, view, variables, log_file, profile, *args):
    """One deploy: returns its wall time and the role's own time (from the playbook; the longest
    host's, with several), in seconds. args go to ansible-playbook."""
    elapsed = playbook(venv, view, ROOT / "bench/deploy.yml", log_file, "-e", "@" + str(variables),
                       *args, profile=profile)
    role = re.findall(r"BENCH_ROLE_SECONDS=([0-9.]+)", Path(log_file).read_text())
    return elapsed, max(float(seconds) for seconds in role)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the deployed app and the index")
    parser.add_argument("--profile", action="store_true", help="time every task (see above)")
    args = parser.parse_args()

    venv, view = development_environment()
    python = venv / "bin/python"
    work = Path(tempfile.mkdtemp(prefix="lockstep-bench-deploy."))
    try:
        index_state, poetry, releases = sample_application(python, CACHE, work)
        plan = ([("fresh", "v1")] * RUNS["fresh"] + [("code-only", release) for release in releases[1:]]
                + [("no-change", releases[-1])] * RUNS["no-change"])
        runs = {}
        for number, (step, release) in enumerate(plan):
            if step == "fresh":
                # An empty application directory (with the Poetry cache the role keeps in it)
                # and an empty cache of packed releases on the controller.
                shutil.rmtree(work / "srv", ignore_errors=True)
                os.environ["XDG_CACHE_HOME"] = str(work / ("controller-cache-%d" % number))
            variables = work / ("%d-%s.json" % (number, step))
            variables.write_text(json.dumps({
                "bench_root": str(work / "srv"),
                "bench_source": str(work / release),
                "bench_index_username": index_state["username"],
                "bench_index_password": index_state["password"],
                "bench_poetry": str(poetry / "bin/poetry"),
                # The interpreter itself, as on a server: a version manager's shim in PATH (pyenv's
                # python3 is a shell script) costs a tenth of a second every time it starts.
                "bench_python": os.path.realpath(sys.executable),
            }))
            measured = deploy(venv, view, variables, work / ("%d-%s.log" % (number, step)), args.profile)
            runs.setdefault(step, []).append(measured)
            log("%-9s %6.1f s (the role: %.1f s)" % ((step,) + measured))
        # The least of each step's runs: what the step costs without the machine's noise.
        times = {step: tuple(min(column) for column in zip(*measured)) for step, measured in runs.items()}
        # What any playbook costs before it does anything, for the wall clock ratios.
        alone = work / "one-task.yml"
        alone.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                         "    - ansible.builtin.set_fact:\n        bench: true\n")
        start = min(playbook(venv, view, alone, work / "one-task.log", profile=args.profile)
                    for attempt in range(2))
    finally:
        if args.keep:
            log("kept %s and the index in %s" % (work, CACHE / "index"))
        else:
            shutil.rmtree(work, ignore_errors=True)
            stop_index(python, CACHE)

    missed = []
    print("fresh deploy: %.1f s wall clock, %.1f s in the role" % times["fresh"])
    print("ansible-playbook alone (a play with one task): %.1f s, %.3f of the fresh deploy's wall clock"
          % (start, start / times["fresh"][0]))
    for step, target in TARGETS.items():
        if not judge("%-9s / fresh:" % step, times[step], times["fresh"], target):
            missed.append(step)
    sys.exit(1 if missed else 0)


def judge(name, measured, base, target):
    """Prints, after name, the ratios of measured to base (each a pair: wall clock, the role's own
    time), the wall clock's judged against target, the role's not (see the module's docstring);
    returns whether the target is met. bench/fleet.py and bench/services.py judge with it too."""
    wall, role = (measured[index] / base[index] for index in (0, 1))
    print("%s %6.3f  wall clock (target <= %.2f)%s" % (name, wall, target, "" if wall <= target else "  MISSED"))
    print("%s %6.3f  the role   (not judged)" % (name, role))
    return wall <= target


if __name__ == "__main__":
    main()
