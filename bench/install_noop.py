"""How much a lockstep.poetry.install run that has nothing to do costs, next to Poetry's dry run.

    .venv/bin/python bench/install_noop.py [--work DIR] [--runs N] [--poetry 1.8.5 2.5.1]

Run it from a checkout with the development virtualenv (scripts/test creates .venv; its Python
has pypiserver for the index and ansible-core for the module). It starts its own private index
(tests/testbed/index.py, under WORK/index) and installs each Poetry version it measures
(tests/testbed/poetry.sh, under WORK/poetry); WORK defaults to .cache/bench and is reused by
later runs (wheels, Poetry installs). The index is stopped at the end.

For each Poetry version it locks a project with more than 30 packages from the index and measures
three usages of the module, each on a project of its own (the same pyproject.toml and lock):
  virtualenv  the `virtualenv` option;
  in-project  no `virtualenv`, Poetry's in-project .venv (virtualenvs.in-project in poetry.toml);
  cache-dir   no `virtualenv`, the environment Poetry makes in its cache directory.
It syncs each once through Ansible (`ansible localhost -m lockstep.poetry.install`: the module
runs, as there is no stamp yet), runs the task once more with nothing to do, and then measures
in alternation, --runs times each, and prints medians:
  (b) the no-op as the task now runs it on the host: the action's helper command (the install
      module's no-op check, plugin_utils/_helpers/install_noop.py with the module_utils it
      ships, see plugins/action/install.py), exactly as the second Ansible run executed it (read
      from its -vvv log, the program kept with ANSIBLE_KEEP_REMOTE_FILES=1);
  (c) `poetry sync --dry-run` (Poetry 1.8: `poetry install --sync --dry-run`) on the same
      project and environment;
and b/c, the target: at most 0.3 (the exit status is 1 when a usage misses it). Two more
columns for comparison, each run with the same Python and with its ratio to (c):
  AnsiballZ  the same no-op run by the module, as Ansible runs a module: the AnsiballZ payload
             that the sync left behind (the module's wrapper: ansible.module_utils imported
             from a zip, compiled from source, on every task);
  floor      ansible.builtin.ping, a module that does nothing, run the same way: Ansible's own
             start-up of a module, below which no module run can go.
The controller's own start-up and connection costs are left out of all of them. Every no-op run
must report no change and start no Poetry; the commands it ran instead (an interpreter asked for
its version, see the module's notes) are counted.
"""

import argparse
import glob
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTBED = ROOT / "tests" / "testbed"
TARGET_RATIO = 0.3
# Main dependencies of the benchmark project: with their own dependencies, more than 30
# packages from the test index's mirror (tests/testbed/mirror.txt).
DEPENDENCIES = [
    "requests", "rich", "httpx", "pytest", "structlog", "gunicorn", "click", "tabulate", "humanize",
    "tenacity", "python-dotenv", "pytz", "python-dateutil", "jmespath", "itsdangerous", "blinker",
    "cachetools", "attrs", "decorator", "distlib", "filelock", "platformdirs", "more-itertools", "toml",
    "wcwidth", "tzdata", "importlib-metadata", "lockstep-sample-lib",
]


def log(message):
    print("[bench] %s" % message, file=sys.stderr, flush=True)


def run(cmd, **kwargs):
    return subprocess.run([str(part) for part in cmd], check=True, **kwargs)


def pyproject(index_url):
    lines = [
        "[tool.poetry]", 'name = "bench-app"', 'version = "0.1.0"', 'description = "Benchmark project"',
        'authors = ["lockstep.poetry maintainers <maintainers@example.com>"]', "package-mode = false", "",
        "[tool.poetry.dependencies]", 'python = ">=3.9"',
    ]
    lines += ['%s = "*"' % name for name in DEPENDENCIES]
    lines += ["", "[[tool.poetry.source]]", 'name = "private"', 'url = "%s"' % index_url, 'priority = "primary"', ""]
    return "\n".join(lines)


class Bench:
    def __init__(self, work, runs):
        self.work = work
        self.runs = runs
        self.python = sys.executable
        self.bin = Path(sys.executable).parent
        # The collection as Ansible looks for it, pointing at this checkout.
        self.collections = work / "collections"
        link = self.collections / "ansible_collections" / "lockstep" / "poetry"
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(ROOT)

    def start_index(self):
        run([self.python, TESTBED / "index.py", "start", "--dir", self.work / "index"])
        state = json.loads((self.work / "index" / "state.json").read_text())
        self.env = dict(
            os.environ,
            POETRY_HTTP_BASIC_PRIVATE_USERNAME=state["username"],
            POETRY_HTTP_BASIC_PRIVATE_PASSWORD=state["password"],
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
            LC_ALL="C.UTF-8",
            LANG="C.UTF-8",
            ANSIBLE_COLLECTIONS_PATH=str(self.collections),
        )
        self.env.pop("VIRTUAL_ENV", None)
        return state["simple_url"]

    def stop_index(self):
        run([self.python, TESTBED / "index.py", "stop", "--dir", self.work / "index"])

    def poetry(self, version):
        directory = self.work / "poetry" / version
        run([TESTBED / "poetry.sh", version, directory])
        return directory / "bin" / "poetry"

    def prepare(self, version, index_url):
        """A locked project for `version` with Poetry's config and cache of its own."""
        base = self.work / version
        shutil.rmtree(base, ignore_errors=True)
        project = base / "project"
        project.mkdir(parents=True)
        (project / "pyproject.toml").write_text(pyproject(index_url))
        env = dict(self.env, POETRY_CONFIG_DIR=str(base / "config"), POETRY_CACHE_DIR=str(base / "cache"))
        poetry = self.poetry(version)
        run([poetry, "--no-interaction", "--no-ansi", "lock"], cwd=project, env=env, stdout=subprocess.DEVNULL)
        locked = (project / "poetry.lock").read_text().count("[[package]]")
        log("Poetry %s: %d locked packages" % (version, locked))
        if locked < 30:
            sys.exit("the benchmark project locks only %d packages; it needs 30 or more" % locked)
        return base, project, poetry, env

    def project_copy(self, project, directory, settings=""):
        """Another project with the same pyproject.toml and lock; `settings` its poetry.toml."""
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        for name in ("pyproject.toml", "poetry.lock"):
            shutil.copy(project / name, directory / name)
        if settings:
            (directory / "poetry.toml").write_text(settings)
        return directory

    def ansiballz(self, base, args, env, module="lockstep.poetry.install"):
        """Run the module once through Ansible (for install, the sync) and keep the AnsiballZ payload."""
        remote_tmp = base / "remote-tmp"
        shutil.rmtree(remote_tmp, ignore_errors=True)
        env = dict(env, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(remote_tmp),
                   ANSIBLE_PYTHON_INTERPRETER=self.python, ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
        result = run([self.bin / "ansible", "localhost", "-c", "local", "-m", module,
                      "-a", json.dumps(args), "-o"], env=env, capture_output=True, text=True)
        log("%s through Ansible: %s" % (module, result.stdout.strip()[:160]))
        payload = glob.glob(str(remote_tmp / "ansible-tmp-*" / ("AnsiballZ_%s.py" % module.rsplit(".", 1)[1])))
        if len(payload) != 1:
            sys.exit("expected one AnsiballZ_install.py under %s, found %s" % (remote_tmp, payload))
        return payload[0]

    def helper_command(self, base, args, env):
        """Run the task once more through Ansible (a no-op now) and return the helper's command
        as the action ran it on the host: /bin/sh -c '... PYTHON -I -S PROGRAM ARGUMENT'."""
        remote_tmp = base / "remote-tmp-noop"
        shutil.rmtree(remote_tmp, ignore_errors=True)
        env = dict(env, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(remote_tmp),
                   ANSIBLE_PYTHON_INTERPRETER=self.python, ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
        result = run([self.bin / "ansible", "localhost", "-c", "local", "-m", "lockstep.poetry.install",
                      "-a", json.dumps(args), "-vvv"], env=env, capture_output=True, text=True)
        found = re.findall(r"^<[^>]+> EXEC (/bin/sh -c .* -I -S .*)$", result.stdout, re.MULTILINE)
        if len(found) != 1 or "AnsiballZ" in result.stdout:
            sys.exit("expected the no-op to run one helper and no module:\n%s" % result.stdout[-3000:])
        return shlex.split(found[0])

    def noop(self, cmd, env, poetry):
        """One no-op run of the module; it must report no change and run no Poetry. Returns
        (seconds, number of commands it ran)."""
        started = time.perf_counter()
        out = run(cmd, env=env, capture_output=True, text=True).stdout
        elapsed = time.perf_counter() - started
        answer = json.loads(out)
        result = answer.get("result", answer)  # the helper's answer holds the task's result
        if answer.get("no_op") is False or result.get("changed") or result.get("failed"):
            sys.exit("the module's no-op run did not report a no-op: %s" % out)
        if any(command[0] == str(poetry) for command in result["commands"]):
            sys.exit("the module's no-op run started Poetry: %s" % out)
        return elapsed, len(result["commands"])

    def dry_run(self, poetry, version, project, env):
        command = ["sync"] if int(version.split(".")[0]) >= 2 else ["install", "--sync"]
        started = time.perf_counter()
        out = run([poetry, "--no-interaction", "--no-ansi"] + command + ["--dry-run"], cwd=project, env=env,
                  capture_output=True, text=True).stdout
        elapsed = time.perf_counter() - started
        if "0 installs, 0 updates, 0 removals" not in out:
            sys.exit("the dry run found work to do:\n%s" % out)
        return elapsed

    def measure(self, version, index_url):
        base, project, poetry, env = self.prepare(version, index_url)
        venv = base / "venv"
        # usage -> (project, the module's arguments beyond project_path, the dry run's environment)
        usages = {
            "virtualenv": (project, {"virtualenv": str(venv)},
                           dict(env, VIRTUAL_ENV=str(venv), PATH="%s%s%s" % (venv / "bin", os.pathsep, env["PATH"]))),
            "in-project": (self.project_copy(project, base / "in-project", "[virtualenvs]\nin-project = true\n"),
                           {}, env),
            "cache-dir": (self.project_copy(project, base / "cache-dir"), {}, env),
        }
        commands = {}
        for usage, (path, extra, _dry_env) in usages.items():
            args = dict({"project_path": str(path), "executable": str(poetry)}, **extra)
            commands[usage] = {
                "module": [self.python, self.ansiballz(base / usage, args, env)],
                "helper": self.helper_command(base / usage, args, env),
            }
        floor = [self.python, self.ansiballz(base / "floor", {"data": "pong"}, env, "ansible.builtin.ping")]
        times = {usage: {"module": [], "helper": [], "dry_run": [], "floor": []} for usage in usages}
        ran = {}
        for _run in range(self.runs):
            for usage, (path, _extra, dry_env) in usages.items():
                started = time.perf_counter()
                run(floor, env=env, capture_output=True)
                times[usage]["floor"].append(time.perf_counter() - started)
                elapsed, ran[usage] = self.noop(commands[usage]["helper"], env, poetry)
                times[usage]["helper"].append(elapsed)
                times[usage]["module"].append(self.noop(commands[usage]["module"], env, poetry)[0])
                times[usage]["dry_run"].append(self.dry_run(poetry, version, path, dry_env))
        return [dict({key: statistics.median(values) for key, values in times[usage].items()},
                     version=version, usage=usage, commands=ran[usage]) for usage in usages]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / ".cache" / "bench")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--poetry", nargs="+", default=["1.8.5", "2.5.1"])
    args = parser.parse_args()
    bench = Bench(args.work.resolve(), args.runs)
    index_url = bench.start_index()
    try:
        results = [row for version in args.poetry for row in bench.measure(version, index_url)]
    finally:
        bench.stop_index()
    print("median of %d runs each, seconds; ratios to the dry run" % args.runs)
    header = ("poetry", "usage", "dry run", "helper", "ratio", "AnsiballZ", "ratio", "floor", "ratio", "commands")
    print("%-8s %-11s %8s %8s %6s %10s %6s %7s %6s %9s" % header)
    missed = []
    for r in results:
        ratio = r["helper"] / r["dry_run"]
        if ratio > TARGET_RATIO:
            missed.append("%s %s" % (r["version"], r["usage"]))
        print("%-8s %-11s %8.3f %8.3f %6.2f %10.3f %6.2f %7.3f %6.2f %9d" % (
            r["version"], r["usage"], r["dry_run"], r["helper"], ratio, r["module"], r["module"] / r["dry_run"],
            r["floor"], r["floor"] / r["dry_run"], r["commands"]))
    print("target: helper ratio <= %.1f: %s" % (TARGET_RATIO, "missed by " + ", ".join(missed) if missed else "met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
