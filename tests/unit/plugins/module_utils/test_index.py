# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils import _index
from ansible_collections.lockstep.poetry.plugins.module_utils._index import (
    Index,
    compare,
    distribution_key,
    parse_project_page,
    release_files,
    simple_url,
)

A, B, C = "a" * 64, "b" * 64, "c" * 64


@pytest.mark.parametrize("upload_url, expected", [
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/simple/"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080/simple/"),
    ("https://nexus.example.com/repository/pypi-internal/", "https://nexus.example.com/repository/pypi-internal/simple/"),
    ("https://gitlab.example.com/api/v4/projects/7/packages/pypi", "https://gitlab.example.com/api/v4/projects/7/packages/pypi/simple/"),
    ("https://index.example.com/simple", "https://index.example.com/simple/"),
    ("https://upload.pypi.org/legacy/", "https://pypi.org/simple/"),
    ("https://test.pypi.org/legacy", "https://test.pypi.org/simple/"),
])
def test_simple_api_of_an_upload_url(upload_url, expected):
    assert simple_url(upload_url) == expected


@pytest.mark.parametrize("filename, expected", [
    ("demo_app-0.1.0-py3-none-any.whl", ("wheel", "demo-app", "0.1.0", "py3-none-any")),
    ("Demo.App-0.1.0-1-cp311-cp311-manylinux_2_17_x86_64.whl", ("wheel", "demo-app", "0.1.0", "1-cp311-cp311-manylinux_2_17_x86_64")),
    # Poetry 2 writes the sdist's name as the wheel's; older tools kept the dashes.
    ("demo_app-0.1.0.tar.gz", ("sdist", "demo-app", "0.1.0")),
    ("demo-app-0.1.0.tar.gz", ("sdist", "demo-app", "0.1.0")),
    ("demo-app-0.1.0rc1.zip", ("sdist", "demo-app", "0.1.0rc1")),
    ("demo_app-0.1.0.tar.gz.asc", None),
    ("not-a-wheel.whl", None),
    ("README.md", None),
])
def test_distribution_keys(filename, expected):
    assert distribution_key(filename) == expected


PYPISERVER_PAGE = """<!DOCTYPE html><html><head><title>Links for demo-app</title></head><body>
<h1>Links for demo-app</h1>
<a href="../../packages/demo_app-0.1.0-py3-none-any.whl#sha256=%s">demo_app-0.1.0-py3-none-any.whl</a><br>
<a href="../../packages/demo_app-0.1.0.tar.gz#md5=0123">demo_app-0.1.0.tar.gz</a><br>
<a href="https://files.example.com/demo_app-0.2.0.tar.gz#SHA256=%s" data-requires-python="&gt;=3.9">x</a><br>
</body></html>""" % (A, B.upper())


def test_project_page_links_with_and_without_sha256():
    assert parse_project_page(PYPISERVER_PAGE, "http://127.0.0.1:8080/simple/demo-app/") == [
        {"filename": "demo_app-0.1.0-py3-none-any.whl", "sha256": A,
         "url": "http://127.0.0.1:8080/packages/demo_app-0.1.0-py3-none-any.whl"},
        # Another algorithm: the file must be read to know its sha256.
        {"filename": "demo_app-0.1.0.tar.gz", "sha256": None,
         "url": "http://127.0.0.1:8080/packages/demo_app-0.1.0.tar.gz"},
        {"filename": "demo_app-0.2.0.tar.gz", "sha256": B,
         "url": "https://files.example.com/demo_app-0.2.0.tar.gz"},
    ]


def test_release_files_are_those_of_the_version():
    files = parse_project_page(PYPISERVER_PAGE, "http://127.0.0.1:8080/simple/demo-app/")
    assert [f["filename"] for f in release_files(files, "Demo_App", "0.1.0")] == [
        "demo_app-0.1.0-py3-none-any.whl", "demo_app-0.1.0.tar.gz"]
    assert release_files(files, "demo-app", "0.3.0") == []
    assert release_files(files, "other", "0.1.0") == []


WHEEL = {"filename": "demo_app-0.1.0-py3-none-any.whl", "sha256": A}
SDIST = {"filename": "demo_app-0.1.0.tar.gz", "sha256": B}


def _plan(published=(), upload=(), conflicts=()):
    return {"published": list(published), "upload": list(upload), "conflicts": list(conflicts)}


@pytest.mark.parametrize("built, on_index, expected", [
    pytest.param([WHEEL, SDIST], [], _plan(upload=[WHEEL["filename"], SDIST["filename"]]), id="new release"),
    pytest.param([WHEEL, SDIST], [SDIST, WHEEL], _plan(published=[WHEEL["filename"], SDIST["filename"]]),
                 id="the same files"),
    pytest.param([WHEEL, SDIST], [WHEEL], _plan(published=[WHEEL["filename"]], upload=[SDIST["filename"]]),
                 id="the sdist missing"),
    pytest.param([WHEEL], [dict(WHEEL, sha256=C)], _plan(conflicts=[
        {"filename": WHEEL["filename"], "sha256": A, "index_filename": WHEEL["filename"], "index_sha256": C}]),
        id="other bytes"),
    pytest.param([SDIST], [{"filename": "demo-app-0.1.0.tar.gz", "sha256": C}], _plan(conflicts=[
        {"filename": SDIST["filename"], "sha256": B, "index_filename": "demo-app-0.1.0.tar.gz", "index_sha256": C}]),
        id="an sdist under the old spelling of the name fills the same slot"),
    pytest.param([SDIST], [{"filename": "demo-app-0.1.0.tar.gz", "sha256": B}], _plan(published=[SDIST["filename"]]),
                 id="the same sdist under the old spelling"),
    pytest.param([WHEEL], [{"filename": "demo_app-0.1.0-cp311-cp311-linux_x86_64.whl", "sha256": C}],
                 _plan(upload=[WHEEL["filename"]]), id="a wheel for other tags is left alone"),
    pytest.param([WHEEL, SDIST], [dict(WHEEL, sha256=C), SDIST], _plan(published=[SDIST["filename"]], conflicts=[
        {"filename": WHEEL["filename"], "sha256": A, "index_filename": WHEEL["filename"], "index_sha256": C}]),
        id="one file differs"),
])
def test_compare_built_with_the_index(built, on_index, expected):
    assert compare(built, on_index) == expected


class SimpleIndex(BaseHTTPRequestHandler):
    """A project page that links one file, and the file."""

    def do_GET(self):
        if self.path == "/simple/tiny/":
            body = b'<a href="/files/tiny-1.0-py3-none-any.whl">tiny-1.0-py3-none-any.whl</a>'
        else:
            body = b"the wheel"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


def test_an_index_makes_its_tls_context_once(tmp_path, monkeypatch):
    made, real = [], _index.make_context

    def make_context(**settings):
        made.append(settings)
        return real(**settings)

    server = ThreadingHTTPServer(("127.0.0.1", 0), SimpleIndex)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(_index, "make_context", make_context)
    try:
        index = Index("http://127.0.0.1:%d/simple/" % server.server_address[1], tls={"validate_certs": False})
        for number in range(3):
            index.download("tiny", "tiny-1.0-py3-none-any.whl", str(tmp_path / str(number)))
    finally:
        server.shutdown()
    assert (tmp_path / "2").read_bytes() == b"the wheel"
    assert made == [{"cafile": None, "validate_certs": False, "client_cert": None}]
