# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The helpers (plugin_utils/_helpers), run as plugin_utils/_helper.py runs them: the program it
makes of each (with the module_utils it imports, and its arguments inside), in a separate,
isolated Python without site-packages."""

from __future__ import annotations

import base64
import grp
import hashlib
import importlib.util
import json
import os
import pwd
import stat
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import http.server
import zipfile

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils import _verify
from ansible_collections.lockstep.poetry.plugins.module_utils._wheel_files import BYTECODE, MANIFEST
from ansible_collections.lockstep.poetry.plugins.module_utils._wheelhouse import Compilers, extract_modules
from ansible_collections.lockstep.poetry.plugins.plugin_utils._app_layout import app_layout
from ansible_collections.lockstep.poetry.plugins.plugin_utils._helper import helper_path, program_with_arguments

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def run_helper(name, args):
    """Runs a helper with args, as plugin_utils/_helper.py runs it with pipelining; returns the
    JSON object it printed."""
    result = subprocess.run([sys.executable, "-I", "-S", "-"], input=program_with_arguments(helper_path(name), args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def inspect_host(root, **overrides):
    layout = app_layout(str(root))
    args = {
        "layout": layout,
        "directories": [layout["root"], layout["releases"], layout["venvs"]],
        "user": USER,
        "group": GROUP,
        "service": "",
    }
    args.update(overrides)
    return run_helper("inspect_app", args)


def directory(path, mode=0o755):
    path.mkdir()
    path.chmod(mode)
    return path


def test_inspect_empty_host(tmp_path):
    root = tmp_path / "srv"
    found = inspect_host(root)
    assert found["directories_to_fix"] == [str(root), str(root / "releases"), str(root / "venvs")]
    assert found["current_release"] == ""
    assert found["releases"] == {} and found["venvs"] == {}
    assert found["files"] == {"env": None, "unit": None, "units": {}, "unit_manifest": None, "restart_marker": False}
    assert found["app_user_exists"] and found["app_group_exists"]
    assert found["user"] == USER
    assert found["python_version"] == "%d.%d" % sys.version_info[:2]
    assert found["service"] is None


def test_inspect_layout(tmp_path):
    root = directory(tmp_path / "srv")
    releases = directory(root / "releases", 0o700)  # wrong mode: to fix
    venvs = directory(root / "venvs")
    ready = directory(venvs / "py3.11-aaaaaaaaaaaa")
    (ready / ".lockstep-virtualenv.json").write_text(json.dumps({"lock_sha1": "1" * 40}))
    directory(venvs / "py3.11-bbbbbbbbbbbb")  # not marked ready
    complete = directory(releases / "r1")
    (complete / ".venv").symlink_to("../../venvs/py3.11-aaaaaaaaaaaa")
    directory(releases / "r2")  # unpacked, never linked to a virtualenv
    directory(releases / ".lockstep-stage.r3.x")  # being unpacked: not a release
    (root / "current").symlink_to("releases/r1")
    (root / "app.env").write_text("A=1\n")
    (root / "app.env").chmod(0o600)

    found = inspect_host(root)

    assert found["directories_to_fix"] == [str(releases)]
    assert found["current_release"] == "r1"
    assert sorted(found["releases"]) == ["r1", "r2"]
    assert found["releases"]["r1"]["venv"] == "py3.11-aaaaaaaaaaaa"
    assert found["releases"]["r2"]["venv"] is None
    assert found["venvs"] == {"py3.11-aaaaaaaaaaaa": {"lock_sha1": "1" * 40}, "py3.11-bbbbbbbbbbbb": None}
    env = found["files"]["env"]
    assert (env["type"], env["mode"], env["owner"]) == ("file", "0600", USER)
    assert env["sha1"] == hashlib.sha1(b"A=1\n").hexdigest()


def test_inspect_looks_up_the_services_programs_in_the_ready_virtualenvs(tmp_path):
    root = directory(tmp_path / "srv")
    venvs = directory(root / "venvs")
    ready = directory(venvs / "py3.11-aaaaaaaaaaaa")
    (ready / ".lockstep-virtualenv.json").write_text(json.dumps({"lock_sha1": "1" * 40}))
    directory(ready / "bin")
    (ready / "bin" / "gunicorn").write_text("#!/bin/sh\n")
    directory(venvs / "py3.11-bbbbbbbbbbbb")  # not marked ready: not looked at
    assert inspect_host(root, programs=["gunicorn", "celery"])["programs_missing"] == {"py3.11-aaaaaaaaaaaa": ["celery"]}
    assert inspect_host(root)["programs_missing"] == {"py3.11-aaaaaaaaaaaa": []}


def test_inspect_units_asked_for_and_recorded(tmp_path):
    root = directory(tmp_path / "srv")
    units = directory(tmp_path / "units")
    (units / "shopfront-web.service").write_text("[Service]\n")
    (units / "shopfront-web.socket").write_text("[Socket]\n")
    # Written by an earlier deploy for a service no longer in the release.
    (root / ".lockstep-units.json").write_text(json.dumps(["shopfront-web.service", "shopfront-old.service"]))
    layout = dict(app_layout(str(root)), unit_dir=str(units))
    found = inspect_host(root, layout=layout, unit_files=["shopfront-web.service", "shopfront-web.socket"])
    assert found["files"]["unit_manifest"] == ["shopfront-web.service", "shopfront-old.service"]
    assert sorted(found["files"]["units"]) == ["shopfront-old.service", "shopfront-web.service", "shopfront-web.socket"]
    assert found["files"]["units"]["shopfront-old.service"] is None
    assert found["files"]["units"]["shopfront-web.socket"]["sha1"] == hashlib.sha1(b"[Socket]\n").hexdigest()


def test_inspect_takes_the_deploy_lock_once(tmp_path):
    root = directory(tmp_path / "srv")
    layout = app_layout(str(root))
    lock = {"path": str(tmp_path / "app.lock"), "holder": {"token": "first"}, "replace": None}
    taken = inspect_host(root, layout=layout, lock=lock, scratch_prefix="app-deploy.")
    assert taken["lock"] == {"path": str(tmp_path / "app.lock"), "acquired": True, "holder": {"token": "first"}}
    assert taken["scratch"] is not None
    # A second run finds it held, and makes no scratch space.
    second = inspect_host(root, layout=layout, lock=dict(lock, holder={"token": "second"}), scratch_prefix="app-deploy.")
    assert second["lock"] == {"path": str(tmp_path / "app.lock"), "acquired": False, "holder": {"token": "first"}}
    assert second["scratch"] is None
    # Taken over from a run that ended without releasing it.
    over = inspect_host(root, layout=layout, lock={"path": lock["path"], "holder": {"token": "third"}, "replace": "first"})
    assert over["lock"]["acquired"] and over["lock"]["replaced"] == {"token": "first"}
    assert json.loads((tmp_path / "app.lock").read_text()) == {"token": "third"}
    os.rmdir(taken["scratch"])


def test_inspect_directory_of_another_owner_or_a_link(tmp_path):
    root = directory(tmp_path / "srv")
    (root / "releases").symlink_to(tmp_path)  # a link where a directory belongs
    found = inspect_host(root, group="nogroup-%d" % os.getpid())
    assert found["directories_to_fix"] == [str(root), str(root / "releases"), str(root / "venvs")]
    assert not found["app_group_exists"]


def test_inspect_current_that_is_not_a_link(tmp_path):
    root = directory(tmp_path / "srv")
    directory(root / "current")
    assert inspect_host(root)["current_release"] == ""


def test_switch_links(tmp_path):
    release = directory(tmp_path / "r2")
    current = tmp_path / "current"
    current.symlink_to("r1")
    args = {"links": [[str(current), "r2"], [str(tmp_path / "gone"), None]], "touch": str(release),
            "_check_mode": True}
    (tmp_path / "gone").symlink_to("r0")

    assert run_helper("switch_links", args) == {"changed": True, "links_changed": [str(current), str(tmp_path / "gone")]}
    assert os.readlink(str(current)) == "r1"  # check mode changed nothing

    os.utime(str(release), (0, 0))
    args["_check_mode"] = False
    assert run_helper("switch_links", args)["links_changed"] == [str(current), str(tmp_path / "gone")]
    assert os.readlink(str(current)) == "r2"
    assert not os.path.lexists(str(tmp_path / "gone"))
    assert release.stat().st_mtime > 0  # marked as the newest release

    assert run_helper("switch_links", args) == {"changed": False, "links_changed": []}


def test_switch_links_records_the_switch_until_forgotten(tmp_path):
    current = tmp_path / "current"
    current.symlink_to("r1")
    record = tmp_path / "switch.json"
    args = {"links": [[str(current), "r2"]], "record": {"path": str(record), "content": {"from": "r1", "to": "r2"}}}
    run_helper("switch_links", dict(args, _check_mode=True))
    assert not record.exists()
    run_helper("switch_links", args)
    assert json.loads(record.read_text()) == {"from": "r1", "to": "r2"} and os.readlink(str(current)) == "r2"
    # Put back: the record goes once the links are as they were.
    assert run_helper("switch_links", {"links": [[str(current), "r1"]], "forget": str(record)})["changed"]
    assert not record.exists() and os.readlink(str(current)) == "r1"


@pytest.mark.parametrize("command", [["sh", "-c", 'echo "$GREETING $VIRTUAL_ENV $(pwd)"'],
                                     "sh -c 'echo \"$GREETING $VIRTUAL_ENV $(pwd)\"'"])
def test_run_loads_the_environment_file(tmp_path, command):
    (tmp_path / "app.env").write_text('GREETING="hello \\"you\\""\n')
    args = {"chdir": str(tmp_path), "env_file": str(tmp_path / "app.env"), "venv": "/nonexistent/venv",
            "command": command}
    answer = run_helper("run_command", args)
    assert answer["rc"] == 0 and not answer.get("failed")
    assert answer["stdout"] == 'hello "you" /nonexistent/venv %s\n' % tmp_path


def test_run_says_how_a_command_failed(tmp_path):
    (tmp_path / "app.env").write_text("")
    args = {"chdir": str(tmp_path), "env_file": str(tmp_path / "app.env"), "venv": "/nonexistent/venv",
            "command": ["sh", "-c", "echo starting; echo 'database is locked' >&2; exit 3"]}
    answer = run_helper("run_command", args)
    assert answer["failed"] and answer["rc"] == 3
    assert answer["msg"] == "sh -c 'echo starting; echo '\"'\"'database is locked'\"'\"' >&2; exit 3' exited with 3: database is locked"


def test_inspect_poetry_on_a_host_without_it(tmp_path):
    found = run_helper("inspect_poetry", {"home": str(tmp_path / "poetry"), "bin_dir": str(tmp_path / "bin"),
                                          "venv": "venv"})
    assert found["python"] == "%d.%d" % sys.version_info[:2]
    assert found["home"] == str(tmp_path / "poetry") and found["bin_dir_exists"] is False
    assert found["version"] is None and found["plugins"] == [] and found["venvs"] == []


def plugin(site_packages, name, version="1.0"):
    """A distribution in site_packages that registers a Poetry plugin."""
    dist_info = site_packages / ("%s-%s.dist-info" % (name, version))
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
    (dist_info / "entry_points.txt").write_text("[poetry.application.plugin]\n%s = x:Plugin\n" % name)


def test_inspect_poetry_names_the_plugins_no_longer_wanted(tmp_path):
    site_packages = tmp_path / "poetry" / "venv" / "lib" / ("python%d.%d" % sys.version_info[:2]) / "site-packages"
    plugin(site_packages, "Poetry_Plugin.Export")
    plugin(site_packages, "old-plugin")
    found = run_helper("inspect_poetry", {"home": str(tmp_path / "poetry"), "bin_dir": str(tmp_path / "bin"),
                                          "venv": "venv", "plugins": ["poetry-plugin-export>=1.0"]})
    assert found["plugins"] == ["old-plugin", "poetry-plugin-export"]
    assert found["stale_plugins"] == ["old-plugin"]


def test_inspect_makes_scratch_space_only_when_asked(tmp_path):
    root = tmp_path / "srv"
    assert inspect_host(root)["scratch"] is None
    scratch = inspect_host(root, scratch_prefix="shopfront-deploy.")["scratch"]
    try:
        assert os.path.isdir(scratch) and os.path.basename(scratch).startswith("shopfront-deploy.")
        assert oct(os.stat(scratch).st_mode & 0o777) == "0o700"
    finally:
        os.rmdir(scratch)


def end_deploy(**args):
    """The helper end_deploy with its arguments as the action fills them in."""
    return run_helper("end_deploy", dict({"scratch": None, "lock": None, "token": None}, **args))


def test_end_deploy_releases_only_the_runs_own_lock(tmp_path):
    lock = tmp_path / "app.lock"
    lock.write_text(json.dumps({"token": "other"}))
    assert end_deploy(lock=str(lock), token="mine") == {"changed": False, "released": False,
                                                        "holder": {"token": "other"}}
    assert lock.exists()
    lock.write_text(json.dumps({"token": "mine"}))
    assert end_deploy(lock=str(lock), token="mine") == {"changed": True, "released": True}
    assert not lock.exists()
    assert end_deploy(lock=str(lock), token="mine") == {"changed": False, "released": False}


@pytest.mark.parametrize("check_mode", [False, True])
def test_end_deploy_removes_the_scratch_space(tmp_path, check_mode):
    # Check mode unpacks a release there, and takes no lock.
    scratch = tmp_path / "shopfront-deploy.x1"
    (scratch / "r1" / "pkg").mkdir(parents=True)
    (scratch / "r1" / "pkg" / "module.py").write_text("VALUE = 1\n")
    lock = tmp_path / "app.lock"
    lock.write_text(json.dumps({"token": "mine"}))
    found = end_deploy(scratch=str(scratch), lock=None if check_mode else str(lock), token=None if check_mode else "mine",
                       _check_mode=check_mode)
    assert not scratch.exists() and found["released"] is not check_mode and lock.exists() is check_mode
    # Gone already (a run killed after it): nothing to do.
    assert end_deploy(scratch=str(scratch)) == {"changed": False, "released": False}


def remove_paths(paths, **args):
    """The helper remove_paths with its arguments as the action fills them in."""
    return run_helper("remove_paths", dict({"paths": [str(path) for path in paths]}, **args))


def test_remove_paths_removes_trees_files_and_links_not_what_they_point_to(tmp_path):
    release = tmp_path / "releases" / "r1"
    (release / "pkg").mkdir(parents=True)
    (release / "pkg" / "module.py").write_text("VALUE = 1\n")
    marker = tmp_path / ".lockstep-restart"
    marker.write_text("")
    kept = tmp_path / "venvs" / "py3.11-kept"
    kept.mkdir(parents=True)
    link = tmp_path / "candidate.venv"
    link.symlink_to(kept)
    dangling = tmp_path / "candidate"
    dangling.symlink_to(tmp_path / "releases" / "gone")
    gone = tmp_path / "releases" / "r0"
    paths = [release, marker, link, dangling, gone]
    # Check mode predicts, and removes nothing.
    predicted = remove_paths(paths, _check_mode=True)
    assert predicted == {"changed": True, "paths_removed": [str(path) for path in paths[:4]]}
    assert release.exists() and marker.exists() and os.path.lexists(dangling)
    assert remove_paths(paths) == predicted
    assert not any(os.path.lexists(path) for path in paths)
    # A link goes, what it pointed to stays.
    assert kept.is_dir()
    assert remove_paths(paths) == {"changed": False, "paths_removed": []}
    assert remove_paths([]) == {"changed": False, "paths_removed": []}


def test_remove_paths_says_what_it_could_not_remove_and_what_it_did(tmp_path):
    removed = tmp_path / "marker"
    removed.write_text("")
    # A file that nobody may remove, root neither.
    found = remove_paths([removed, "/proc/version", tmp_path / "after"])
    assert found["failed"] and found["changed"] and found["paths_removed"] == [str(removed)]
    assert found["msg"].startswith("Could not remove /proc/version: ")


class HealthHandler(http.server.BaseHTTPRequestHandler):
    """Answers /health 200, /sick 503, /moved with a redirect to /health/, /loop with a redirect to
    itself, /slow after two seconds and /stream with a body that takes half a minute (it notes
    whether the client went before its end); notes the Host header it was asked with last."""
    host = None
    left_the_stream = threading.Event()

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        HealthHandler.host = self.headers.get("Host")
        if self.path == "/stream":
            self.stream()
            return
        if self.path == "/slow":
            time.sleep(2)
        answers = {"/health": (200, None), "/health/": (200, None), "/sick": (503, None),
                   "/moved": (301, "/health/"), "/loop": (302, "/loop")}
        status, location = answers.get(self.path, (404, None))
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for _second in range(60):
                self.wfile.write(b"data: up\n\n")
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            HealthHandler.left_the_stream.set()

    def address_string(self):
        return "test"

    def log_message(self, *args):
        pass


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def http_server():
    """A server on 127.0.0.1 (a free port); yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HealthHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def check_url(url, **args):
    """The helper check_url with its arguments as the action fills them in."""
    return run_helper("check_url", dict({"url": url, "unix_socket": None, "status_code": [200], "timeout": 5}, **args))


def test_check_url_passes_on_a_status_asked_for(http_server):
    assert check_url(http_server + "/health") == {"changed": False, "status": 200, "url": http_server + "/health"}
    assert check_url(http_server + "/sick", status_code=[200, 503])["status"] == 503


def test_check_url_fails_on_another_status(http_server):
    found = check_url(http_server + "/sick")
    assert found["failed"] and found["status"] == 503
    assert found["msg"] == "GET %s/sick answered 503, not 200" % http_server
    assert check_url(http_server + "/sick", status_code=[200, 204])["msg"].endswith("answered 503, not 200 or 204")


def test_check_url_follows_redirects_but_not_forever(http_server):
    assert check_url(http_server + "/moved") == {"changed": False, "status": 200, "url": http_server + "/health/"}
    found = check_url(http_server + "/loop")
    assert found["failed"] and found["msg"] == "GET %s/loop failed: more than 10 redirects" % http_server


def test_check_url_does_not_wait_for_the_body(http_server):
    HealthHandler.left_the_stream.clear()
    assert check_url(http_server + "/stream", timeout=2)["status"] == 200
    # Had the helper read the body, it would have stayed to its end.
    assert HealthHandler.left_the_stream.wait(30)


def test_check_url_fails_when_nothing_answers_in_time(http_server):
    found = check_url(http_server + "/slow", timeout=1)
    assert found["failed"] and found["msg"] == "GET %s/slow failed: timed out" % http_server
    # A port where nothing listens: the server's, once it is closed.
    with socketserver.TCPServer(("127.0.0.1", 0), HealthHandler) as closed:
        port = closed.server_address[1]
    found = check_url("http://127.0.0.1:%d/health" % port)
    assert found["failed"] and found["msg"].startswith("GET http://127.0.0.1:%d/health failed: " % port)
    assert "Connection refused" in found["msg"]


def test_check_url_through_a_unix_socket_names_the_urls_host(tmp_path):
    path = str(tmp_path / "candidate.sock")
    server = UnixHTTPServer(path, HealthHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        found = check_url("http://127.0.0.1:8000/health", unix_socket=path)
        assert found == {"changed": False, "status": 200, "url": "http://127.0.0.1:8000/health"}
        assert HealthHandler.host == "127.0.0.1:8000"
        found = check_url("http://127.0.0.1:8000/sick", unix_socket=path)
        assert found["msg"] == "GET http://127.0.0.1:8000/sick through %s answered 503, not 200" % path
    finally:
        server.shutdown()
        server.server_close()
    found = check_url("http://127.0.0.1:8000/health", unix_socket=path)
    assert found["failed"] and found["msg"].startswith("GET http://127.0.0.1:8000/health through %s failed: " % path)


def test_check_url_checks_the_certificate_of_https(tmp_path, monkeypatch):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HealthHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    path = str(tmp_path / "tls.sock")
    through_socket = UnixHTTPServer(path, HealthHandler)
    through_socket.socket = context.wrap_socket(through_socket.socket, server_side=True)
    for running in (server, through_socket):
        threading.Thread(target=running.serve_forever, daemon=True).start()
    url = "https://127.0.0.1:%d/health" % server.server_address[1]
    try:
        # A certificate the host does not trust.
        for found in (check_url(url), check_url("https://127.0.0.1/health", unix_socket=path)):
            assert found["failed"] and "CERTIFICATE_VERIFY_FAILED" in found["msg"]
        # Trusted (OpenSSL's SSL_CERT_FILE, as on a host that trusts it).
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert check_url(url) == {"changed": False, "status": 200, "url": url}
        assert check_url("https://127.0.0.1/health", unix_socket=path)["status"] == 200
    finally:
        for running in (server, through_socket):
            running.shutdown()
            running.server_close()


def test_check_url_refuses_what_is_not_an_http_url():
    found = check_url("ftp://127.0.0.1/health")
    assert found["failed"] and found["msg"] == "ftp://127.0.0.1/health is not an http:// or https:// URL"


def make_directories(paths, **args):
    """The helper make_directories with its arguments as the action fills them in."""
    return run_helper("make_directories", dict({"paths": [str(path) for path in paths], "owner": USER,
                                                "group": GROUP, "mode": "0755"}, **args))


def test_make_directories_makes_what_is_missing_with_its_parents(tmp_path):
    root = tmp_path / "srv" / "shopfront"
    paths = [root, root / "releases", root / "shared" / "media"]
    # Check mode predicts, and makes nothing.
    predicted = make_directories(paths, _check_mode=True)
    assert predicted == {"changed": True, "directories_changed": [
        str(tmp_path / "srv"), str(root), str(root / "releases"), str(root / "shared"), str(root / "shared" / "media")]}
    assert not (tmp_path / "srv").exists()
    assert make_directories(paths) == predicted
    # Each made, the parents too, with the mode asked for whatever the umask.
    for path in [tmp_path / "srv", root, root / "releases", root / "shared", root / "shared" / "media"]:
        assert path.is_dir() and path.stat().st_mode & 0o777 == 0o755
    assert make_directories(paths) == {"changed": False, "directories_changed": []}
    assert make_directories(paths, _check_mode=True) == {"changed": False, "directories_changed": []}


def test_make_directories_puts_the_mode_right_and_follows_links(tmp_path):
    root = directory(tmp_path / "srv", mode=0o700)
    directory(tmp_path / "elsewhere", mode=0o750)
    (root / "releases").symlink_to(tmp_path / "elsewhere")
    paths = [root, root / "releases"]
    assert make_directories(paths, _check_mode=True)["directories_changed"] == [str(root), str(root / "releases")]
    assert root.stat().st_mode & 0o777 == 0o700
    assert make_directories(paths)["directories_changed"] == [str(root), str(root / "releases")]
    assert root.stat().st_mode & 0o777 == 0o755 and (tmp_path / "elsewhere").stat().st_mode & 0o777 == 0o755
    assert (root / "releases").is_symlink()


def test_make_directories_refuses_a_file_and_an_unknown_owner(tmp_path):
    (tmp_path / "srv").write_text("")
    found = make_directories([tmp_path / "srv"])
    assert found["failed"] and found["msg"] == "Could not make the application's directories: %s is there, and " \
        "is not a directory" % (tmp_path / "srv")
    nobody = "nogroup-%d" % os.getpid()
    found = make_directories([tmp_path / "new"], group=nobody)
    assert found["failed"] and found["msg"].endswith("the host has no group %s" % nobody)
    assert not (tmp_path / "new").exists()
    # Before the role makes the account, check mode counts it as a change.
    assert make_directories([tmp_path], group=nobody, _check_mode=True) == {
        "changed": True, "directories_changed": [str(tmp_path)]}


def small_wheel(directory, name="lockstep_tiny", version="1.0", extra_files=None):
    """A wheel of one module, a console script, a script in its .data directory; and its sha256."""
    dist_info = "%s-%s.dist-info" % (name, version)
    files = {"%s.py" % name: "def main():\n    return 0\n",
             "%s-%s.data/scripts/%s-tool" % (name, version, name): "#!python\nprint('tool')\n",
             dist_info + "/METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version),
             dist_info + "/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
             dist_info + "/entry_points.txt": "[console_scripts]\n%s = %s:main [extra]\n" % (name, name)}
    files.update(extra_files or {})
    record = "".join("%s,sha256=%s,%d\n" % (path, base64.urlsafe_b64encode(
        hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode(), len(text)) for path, text in files.items())
    path = directory / ("%s-%s-py3-none-any.whl" % (name, version))
    with zipfile.ZipFile(path, "w") as wheel:
        for member, text in files.items():
            wheel.writestr(member, text)
        wheel.writestr(dist_info + "/RECORD", record + dist_info + "/RECORD,,\n")
    return {"name": name.replace("_", "-"), "version": version, "file": path.name,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def venv_packages(venv, **args):
    """The helper venv_packages with its arguments as the action fills them in."""
    return run_helper("venv_packages", dict({"venv": str(venv), "make_with": None, "wheelhouse": None, "remove": [],
                                             "compile": True, "ready": None, "programs": []}, **args))


def wheelhouse_of(directory, *packages):
    """An unpacked wheelhouse (lockstep.poetry.wheelhouse's manifest) of packages."""
    (directory / "wheelhouse.json").write_text(json.dumps({"packages": list(packages)}))
    return str(directory)


def test_venv_packages_installs_a_wheelhouse_into_a_new_virtualenv(tmp_path):
    wheelhouse = directory(tmp_path / "wheelhouse")
    tiny, other = small_wheel(wheelhouse), small_wheel(wheelhouse, "lockstep_other", "2.0")
    venv = tmp_path / "venv"
    found = venv_packages(venv, make_with=sys.executable, wheelhouse=wheelhouse_of(wheelhouse, tiny, other))
    assert found == {"changed": True, "made_venv": True, "removed": [],
                     "installed": ["lockstep-tiny 1.0", "lockstep-other 2.0"], "marked_ready": False,
                     "bytecode_from": "this host"}
    assert not wheelhouse.exists()
    site = next(venv.glob("lib/python3*/site-packages"))
    assert (site / "lockstep_tiny.py").exists() and list((site / "__pycache__").glob("lockstep_tiny.*.pyc"))
    assert (site / "lockstep_tiny-1.0.dist-info" / "INSTALLER").read_text() == "lockstep.poetry\n"
    # The console script and the .data script run with the virtualenv's Python.
    script = venv / "bin" / "lockstep_tiny"
    assert script.read_text().startswith("#!%s/bin/python\n" % venv) and os.access(script, os.X_OK)
    assert subprocess.run([str(script)], check=False).returncode == 0
    assert (venv / "bin" / "lockstep_tiny-tool").read_text() == "#!%s/bin/python\nprint('tool')\n" % venv
    # What lockstep.poetry.verify reads: both distributions, every file as RECORD says.
    installed = _verify.installed_distributions(str(venv))
    assert sorted(installed) == ["lockstep-other", "lockstep-tiny"]
    assert _verify.modified_files(str(venv), installed)[0] == []


def wheelhouse_with_bytecode(directory, magic):
    """An unpacked wheelhouse of a wheel with a module that compiles and one that does not, with the
    bytecode this Python compiled on a builder (lockstep.poetry.wheelhouse's compile); its
    manifest says it was compiled for magic."""
    tiny = small_wheel(directory, extra_files={"lockstep_tiny_old.py": "print 'for Python 2'\n"})
    compilers = Compilers(sys.executable)
    compilers.compile(extract_modules(tiny["file"], str(directory / tiny["file"]), str(directory / BYTECODE)))
    assert compilers.close() is None
    (directory / MANIFEST).write_text(json.dumps({
        "packages": [tiny], "bytecode": {"cache_tag": sys.implementation.cache_tag, "magic": magic}}))
    return tiny


def test_venv_packages_installs_the_bytecode_the_builder_compiled_for_its_python(tmp_path):
    wheelhouse = directory(tmp_path / "wheelhouse")
    tiny = wheelhouse_with_bytecode(wheelhouse, importlib.util.MAGIC_NUMBER.hex())
    with zipfile.ZipFile(wheelhouse / BYTECODE / (tiny["file"] + ".zip")) as bytecode:
        shipped = bytecode.read("__pycache__/lockstep_tiny.%s.pyc" % sys.implementation.cache_tag)
    venv = tmp_path / "venv"
    found = venv_packages(venv, make_with=sys.executable, wheelhouse=str(wheelhouse))
    assert found["installed"] == ["lockstep-tiny 1.0"] and found["bytecode_from"] == "the builder"
    site = next(venv.glob("lib/python3*/site-packages"))
    # The builder's .pyc as it is (checked hash-based), none for the module that does not compile.
    assert [path.name for path in (site / "__pycache__").iterdir()] == [
        "lockstep_tiny.%s.pyc" % sys.implementation.cache_tag]
    assert (site / "__pycache__" / ("lockstep_tiny.%s.pyc" % sys.implementation.cache_tag)).read_bytes() == shipped
    record = (site / "lockstep_tiny-1.0.dist-info" / "RECORD").read_text()
    assert "__pycache__/lockstep_tiny.%s.pyc,," % sys.implementation.cache_tag in record
    # The virtualenv's Python imports it as it is, and verify finds every file as RECORD says.
    assert subprocess.run([str(venv / "bin" / "python"), "-c", "import lockstep_tiny"], check=False).returncode == 0
    installed = _verify.installed_distributions(str(venv))
    assert _verify.modified_files(str(venv), installed)[0] == []


def test_venv_packages_compiles_here_what_another_python_compiled(tmp_path):
    wheelhouse = directory(tmp_path / "wheelhouse")
    wheelhouse_with_bytecode(wheelhouse, "0d0d0d0a")
    venv = tmp_path / "venv"
    found = venv_packages(venv, make_with=sys.executable, wheelhouse=str(wheelhouse))
    assert found["installed"] == ["lockstep-tiny 1.0"] and found["bytecode_from"] == "this host"
    site = next(venv.glob("lib/python3*/site-packages"))
    pyc = (site / "__pycache__" / ("lockstep_tiny.%s.pyc" % sys.implementation.cache_tag)).read_bytes()
    # Compiled here, as py_compile does by default: checked by the source's time stamp.
    assert pyc[:4] == importlib.util.MAGIC_NUMBER and int.from_bytes(pyc[4:8], "little") == 0


def test_venv_packages_marks_the_virtualenv_ready_once_installed(tmp_path):
    wheelhouse = directory(tmp_path / "wheelhouse")
    venv = tmp_path / "venv"
    record = {"lock_sha1": "ab12", "python_version": "3.11", "extras": [], "built_on": "controller"}
    ready = {"path": str(venv / ".lockstep-virtualenv.json"), "content": record}
    found = venv_packages(venv, make_with=sys.executable, wheelhouse=wheelhouse_of(wheelhouse, small_wheel(wheelhouse)),
                          ready=ready)
    assert found["installed"] == ["lockstep-tiny 1.0"] and found["marked_ready"]
    # As the role's tasks write it (to_nice_json), readable by the application's group and others.
    written = venv / ".lockstep-virtualenv.json"
    assert written.read_text() == json.dumps(record, indent=4, sort_keys=True) + "\n"
    assert written.stat().st_mode & 0o777 == 0o644
    assert sorted(path.name for path in venv.iterdir() if path.name.startswith(".")) == [".lockstep-virtualenv.json"]
    # Again with nothing to do: nothing changes.
    again = directory(tmp_path / "again")
    found = venv_packages(venv, wheelhouse=wheelhouse_of(again, small_wheel(again)), ready=ready)
    assert found == {"changed": False, "made_venv": False, "removed": [], "installed": [], "marked_ready": False,
                     "bytecode_from": None}


def test_venv_packages_marks_ready_a_virtualenv_poetry_built(tmp_path):
    # Each host running Poetry (poetry_app_build_on: host): nothing to install, the mark only.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    ready = {"path": str(venv / ".lockstep-virtualenv.json"), "content": {"lock_sha1": "ab12", "built_on": "host"}}
    assert venv_packages(venv, ready=ready)["marked_ready"]
    assert json.loads((venv / ".lockstep-virtualenv.json").read_text()) == ready["content"]
    assert venv_packages(venv, ready=ready) == {"changed": False, "made_venv": False, "removed": [], "installed": [],
                                                "marked_ready": False, "bytecode_from": None}


@pytest.mark.parametrize("programs, missing", [
    ([], None),
    (["python", "tiny-cli"], None),
    (["python", "gunicorn"], "The services run gunicorn, which the virtualenv venv does not provide (is the package "
                             "that provides it a dependency in the groups installed?); it was not marked ready"),
    (["gunicorn", "celery"], "The services run gunicorn, celery, which the virtualenv venv does not provide (is the "
                             "package that provides them a dependency in the groups installed?); it was not marked "
                             "ready"),
])
def test_venv_packages_marks_ready_only_a_virtualenv_that_provides_the_programs(tmp_path, programs, missing):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (venv / "bin" / "tiny-cli").write_text("#!/bin/sh\n")
    ready = {"path": str(venv / ".lockstep-virtualenv.json"), "content": {"lock_sha1": "ab12", "built_on": "host"}}
    found = venv_packages(venv, ready=ready, programs=programs)
    if missing:
        assert found["failed"] and missing in found["msg"] and found["msg"].startswith(str(venv) + ": ")
        assert not found["marked_ready"] and not (venv / ".lockstep-virtualenv.json").exists()
    else:
        assert found["marked_ready"] and "failed" not in found


def test_venv_packages_does_not_mark_ready_what_it_did_not_install(tmp_path):
    wheelhouse = directory(tmp_path / "wheelhouse")
    tiny = small_wheel(wheelhouse)
    tiny["sha256"] = "0" * 64
    venv = tmp_path / "venv"
    found = venv_packages(venv, make_with=sys.executable, wheelhouse=wheelhouse_of(wheelhouse, tiny),
                          ready={"path": str(venv / ".lockstep-virtualenv.json"), "content": {"lock_sha1": "ab12"}})
    assert found["failed"] and not found["marked_ready"]
    assert not (venv / ".lockstep-virtualenv.json").exists()


def test_venv_packages_checks_every_hash_before_it_installs(tmp_path):
    wheelhouse = directory(tmp_path / "wheelhouse")
    tiny, other = small_wheel(wheelhouse), small_wheel(wheelhouse, "lockstep_other", "2.0")
    other["sha256"] = "0" * 64
    venv = tmp_path / "venv"
    found = venv_packages(venv, make_with=sys.executable, wheelhouse=wheelhouse_of(wheelhouse, tiny, other))
    served = hashlib.sha256((wheelhouse / other["file"]).read_bytes()).hexdigest()
    assert found["failed"] and found["installed"] == []
    assert found["msg"] == "%s: lockstep_other-2.0-py3-none-any.whl has sha256 %s, not the lock's %s: " \
        "nothing was installed" % (venv, served, "0" * 64)
    assert wheelhouse.exists() and _verify.installed_distributions(str(venv)) == {}


def test_venv_packages_refuses_a_wheel_that_writes_outside_the_virtualenv(tmp_path):
    wheelhouse = directory(tmp_path / "wheelhouse")
    tiny = small_wheel(wheelhouse, extra_files={"../../../../escaped.py": "x = 1\n"})
    found = venv_packages(tmp_path / "venv", make_with=sys.executable, wheelhouse=wheelhouse_of(wheelhouse, tiny))
    assert found["failed"] and "outside the virtualenv" in found["msg"]
    # Nothing of the wheel was written.
    assert not (tmp_path / "escaped.py").exists() and _verify.installed_distributions(str(tmp_path / "venv")) == {}
    assert not list((tmp_path / "venv").glob("lib/python3*/site-packages/lockstep_tiny*"))


def test_venv_packages_removes_what_differs_and_installs_what_is_missing(tmp_path):
    first = directory(tmp_path / "first")
    venv = tmp_path / "venv"
    venv_packages(venv, make_with=sys.executable,
                  wheelhouse=wheelhouse_of(first, small_wheel(first), small_wheel(first, "lockstep_other", "2.0")))
    site = next(venv.glob("lib/python3*/site-packages"))
    found = venv_packages(venv, remove=["Lockstep_Tiny", "not-installed"])
    assert found == {"changed": True, "made_venv": False, "removed": ["Lockstep_Tiny"], "installed": [],
                     "marked_ready": False, "bytecode_from": None}
    assert sorted(path.name for path in site.iterdir()) == [
        "__pycache__", "lockstep_other-2.0.dist-info", "lockstep_other.py"]
    assert [path.name.split(".")[0] for path in (site / "__pycache__").iterdir()] == ["lockstep_other"]
    assert not (venv / "bin" / "lockstep_tiny").exists() and not (venv / "bin" / "lockstep_tiny-tool").exists()
    # The wheelhouse again: the distribution at its version stays, the missing one is installed,
    # one at another version is replaced.
    again = directory(tmp_path / "again")
    found = venv_packages(venv, wheelhouse=wheelhouse_of(again, small_wheel(again),
                                                         small_wheel(again, "lockstep_other", "2.0")))
    assert found["installed"] == ["lockstep-tiny 1.0"] and found["removed"] == []
    newer = directory(tmp_path / "newer")
    found = venv_packages(venv, wheelhouse=wheelhouse_of(newer, small_wheel(newer, "lockstep_other", "3.0")))
    assert found["removed"] == ["lockstep-other"] and found["installed"] == ["lockstep-other 3.0"]
    assert sorted(_verify.installed_distributions(str(venv))) == ["lockstep-other", "lockstep-tiny"]
    assert not (site / "lockstep_other-2.0.dist-info").exists()


def test_inspect_reads_where_the_proxies_forward(tmp_path):
    live = tmp_path / "live.sock"
    live.symlink_to("/run/shopfront-api-candidate.sock")
    missing = str(tmp_path / "none.sock")
    found = inspect_host(tmp_path, live_links=[str(live), missing])
    assert found["live_links"] == {str(live): "/run/shopfront-api-candidate.sock", missing: None}
    assert inspect_host(tmp_path)["live_links"] == {}


def write_file(path, content, check_mode=False, mode="0600"):
    return run_helper("write_file", {"path": str(path), "content": content, "owner": USER, "group": GROUP,
                                     "mode": mode, "_check_mode": check_mode})


def test_write_file_in_the_four_steps(tmp_path):
    path = tmp_path / "app.env"
    content = '# Environment\nDATABASE_URL="postgres://app:s3cret@db/app"\nGREETING="grüß dich"\n'
    # Check mode predicts and writes nothing; the run writes; then nothing is left to do.
    assert write_file(path, content, check_mode=True) == {"changed": True} and not path.exists()
    assert write_file(path, content) == {"changed": True}
    assert path.read_text(encoding="utf-8") == content and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert write_file(path, content, check_mode=True) == {"changed": False}
    assert write_file(path, content) == {"changed": False}
    # Nothing else is left beside it.
    assert [entry.name for entry in tmp_path.iterdir()] == ["app.env"]


def test_write_file_puts_right_the_mode_and_the_content(tmp_path):
    path = tmp_path / "app.env"
    path.write_text("A=1\n")
    path.chmod(0o644)
    assert write_file(path, "A=1\n") == {"changed": True} and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert write_file(path, "A=2\n") == {"changed": True} and path.read_text() == "A=2\n"


def test_write_file_fails_for_an_account_the_host_does_not_have(tmp_path):
    found = run_helper("write_file", {"path": str(tmp_path / "app.env"), "content": "A=1\n",
                                      "owner": "no-such-user-lockstep", "group": GROUP, "mode": "0600"})
    assert found["failed"] and found["msg"] == "Could not write %s: the host has no user no-such-user-lockstep" % (
        tmp_path / "app.env")
    assert not (tmp_path / "app.env").exists()
    found = run_helper("write_file", {"path": str(tmp_path / "app.env"), "content": "A=1\n",
                                      "owner": "no-such-user-lockstep", "group": "no-such-group-lockstep", "mode": "0600"})
    assert found["msg"].endswith(": the host has no user no-such-user-lockstep and no group no-such-group-lockstep")
