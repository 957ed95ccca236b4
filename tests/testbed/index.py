"""A real private package index for the tests: pypiserver with an htpasswd file on 127.0.0.1.

    index.py start --dir DIR      start it (or keep the running one), publish the test packages
    index.py stop --dir DIR       stop it
    index.py integration-config --dir DIR --poetry PATH [--poetry-version V] [--become]
                                  [--poetry-export PATH]
                                  print the vars file ansible-test hands to integration targets

State (URL, user, password, pid) is kept in DIR/state.json, mode 0600. The index holds:
- private packages built here from a template and published with twine (several versions, so
  that tests can upgrade and downgrade them);
- the public wheels pinned in mirror.txt, downloaded once into DIR/../mirror.
Uploads, downloads and listings all need the credentials (401 without, 403 with wrong ones).
"""

import argparse
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

HERE = Path(__file__).resolve().parent
USERNAME = "lockstep"
# name -> versions published to the index; see private_project() for their content.
PRIVATE_PACKAGES = {
    "lockstep-sample-lib": ["1.0.0", "1.1.0", "2.0.0"],
}


def log(message):
    print("[index] %s" % message, file=sys.stderr)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_state(directory):
    try:
        return json.loads((directory / "state.json").read_text())
    except FileNotFoundError:
        return None


def status(url, username=None, password=None):
    request = urllib.request.Request(url)
    if username is not None:
        token = b64encode(("%s:%s" % (username, password)).encode()).decode()
        request.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def is_running(state):
    return state is not None and status(state["simple_url"], state["username"], state["password"]) == 200


def write_htpasswd(path, username, password):
    from passlib.apache import HtpasswdFile

    htpasswd = HtpasswdFile(str(path), new=True)
    htpasswd.set_password(username, password)
    htpasswd.save()
    os.chmod(path, 0o600)


def private_project(root, name, version):
    """A minimal pure-Python distribution; its greeting names its version."""
    module = name.replace("-", "_")
    (root / module).mkdir(parents=True)
    (root / module / "__init__.py").write_text(
        '__version__ = "%s"\n\n\ndef greeting(who="world"):\n'
        '    return "hello %%s from %s %s" %% who\n' % (version, name, version)
    )
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["flit_core>=3.9,<4"]\nbuild-backend = "flit_core.buildapi"\n\n'
        '[project]\nname = "%s"\nversion = "%s"\ndescription = "Private test library"\n'
        'requires-python = ">=3.9"\n' % (name, version)
    )


def build_private_wheels(cache):
    """The private wheels, built reproducibly: the same bytes, so the same hashes in a lock, on
    every machine and from every index (Poetry caches a package's hashes by source name and
    version, across indexes)."""
    wheels = []
    for name, versions in PRIVATE_PACKAGES.items():
        for version in versions:
            stem = "%s-%s-py3-none-any.whl" % (name.replace("-", "_"), version)
            wheel = cache / stem
            if not wheel.exists():
                with tempfile.TemporaryDirectory() as tmp:
                    private_project(Path(tmp), name, version)
                    subprocess.run(
                        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(cache), tmp],
                        check=True,
                        # flit_core dates the archive's entries from it.
                        env=dict(os.environ, SOURCE_DATE_EPOCH="1700000000"),
                    )
            wheels.append(wheel)
    return wheels


def mirror_public_wheels(cache):
    cache.mkdir(parents=True, exist_ok=True)
    marker = cache / ".mirror.txt"
    wanted = (HERE / "mirror.txt").read_text()
    if marker.exists() and marker.read_text() == wanted:
        return
    log("downloading the public wheels listed in mirror.txt")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
         # Pure-Python wheels only: one file serves every target's Python.
         "--python-version", "3.9", "--implementation", "py", "--abi", "none", "--platform", "any",
         "--dest", str(cache), "-r", str(HERE / "mirror.txt")],
        check=True,
    )
    marker.write_text(wanted)


def start(directory):
    state = read_state(directory)
    if is_running(state):
        log("already running at %s" % state["url"])
        return state
    packages = directory / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    cache = directory.parent / "index-cache"
    mirror_public_wheels(cache / "public")
    for wheel in (cache / "public").glob("*.whl"):
        target = packages / wheel.name
        if not target.exists():
            os.link(wheel, target)

    password = secrets.token_urlsafe(16)
    write_htpasswd(directory / "htpasswd", USERNAME, password)
    port = free_port()
    url = "http://127.0.0.1:%d/" % port
    log_file = open(directory / "pypiserver.log", "ab")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "pypi-server"), "run", "-i", "127.0.0.1", "-p", str(port),
         "-P", str(directory / "htpasswd"), "-a", "update,download,list", "--overwrite",
         str(packages)],
        stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
    )
    state = {
        "url": url,
        "simple_url": url + "simple/",
        "username": USERNAME,
        "password": password,
        "pid": process.pid,
        "packages": str(packages),
        "private_packages": PRIVATE_PACKAGES,
    }
    for _attempt in range(100):
        if status(state["simple_url"]) == 401:
            break
        if process.poll() is not None:
            sys.exit("pypi-server exited; see %s" % (directory / "pypiserver.log"))
        time.sleep(0.1)
    else:
        sys.exit("pypi-server did not answer on %s" % url)

    state_file = directory / "state.json"
    fd = os.open(state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle, indent=2)

    publish(state, build_private_wheels(cache / "private"))
    log("running at %s (pid %d)" % (url, process.pid))
    return state


def publish(state, wheels):
    env = dict(os.environ, TWINE_USERNAME=state["username"], TWINE_PASSWORD=state["password"])
    subprocess.run(
        [str(Path(sys.executable).parent / "twine"), "upload", "--disable-progress-bar",
         "--non-interactive", "--repository-url", state["url"]] + [str(w) for w in wheels],
        check=True, env=env, stdout=subprocess.DEVNULL,
    )


def stop(directory):
    state = read_state(directory)
    if state is None:
        return
    try:
        os.killpg(state["pid"], signal.SIGTERM)
    except ProcessLookupError:
        pass
    (directory / "state.json").unlink()
    log("stopped")


def integration_config(directory, poetry, version=None, become=False, poetry_export=None):
    """The vars file for the integration targets, for POETRY on the test host: asked for its
    version unless told (a Poetry on another host). With become, every task becomes root (a host
    reached as a sudo user). POETRY_EXPORT is a Poetry of the same version with the export
    command (Poetry 2 has it only with poetry-plugin-export); POETRY itself by default."""
    state = read_state(directory)
    if not is_running(state):
        sys.exit("the index is not running: index.py start --dir %s" % directory)
    if version is None:
        version = subprocess.run([poetry, "--version", "--no-ansi"], check=True, capture_output=True,
                                 text=True).stdout.split()[-1].rstrip(")")
    # Locks of the test projects, made once per pyproject.toml for this Poetry and these packages.
    packages = sorted((p.name, p.stat().st_size) for p in Path(state["packages"]).iterdir())
    key = hashlib.sha256(json.dumps([os.path.realpath(poetry), version, packages]).encode()).hexdigest()
    config = {
        "poetry_executable": poetry,
        "poetry_version": version,
        "poetry_export_executable": poetry_export or poetry,
        "index_url": state["simple_url"],
        "index_upload_url": state["url"],
        "index_username": state["username"],
        "index_password": state["password"],
        "index_private_packages": state["private_packages"],
        "lock_cache_dir": str(directory / "locks" / key[:16]),
    }
    if become:
        config["ansible_become"] = True
    # JSON is YAML; ansible-test reads this file as extra vars.
    print(json.dumps(config, indent=2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "integration-config"])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--poetry")
    parser.add_argument("--poetry-version", help="the version of --poetry, when it is on another host")
    parser.add_argument("--become", action="store_true", help="every task becomes root")
    parser.add_argument("--poetry-export", help="a Poetry of the same version with the export command")
    args = parser.parse_args()
    args.dir = args.dir.resolve()
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.action == "start":
        start(args.dir)
    elif args.action == "stop":
        stop(args.dir)
    else:
        integration_config(args.dir, args.poetry, args.poetry_version, args.become, args.poetry_export)


if __name__ == "__main__":
    main()
