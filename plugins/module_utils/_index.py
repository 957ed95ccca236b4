# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a package index holds of a release, read from its PEP 503 simple API, and how that
compares with the distributions just built, for lockstep.poetry.publish.

- simple_url(): the simple API of the repository Poetry uploads to.
- distribution_key(): which slot of a release a file fills (the sdist, or a wheel for its tags),
  so that a file built by another Poetry under another spelling of the name is still the same slot.
- parse_project_page(): the files a project's simple page lists, with the sha256 of its links.
- compare(): which built files are there already, which are missing, which differ (pure).
- Index: reads pages and files with the credentials Poetry would send.

Private to this collection: no compatibility promise.
"""

import os
import shutil
import tempfile
import threading
from html.parser import HTMLParser
from urllib.error import HTTPError, URLError
from urllib.parse import urldefrag, urljoin

from ansible.module_utils.urls import Request, make_context

from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest
from ansible_collections.lockstep.poetry.plugins.module_utils._names import canonical_name, setting_variable
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PoetryError
from ansible_collections.lockstep.poetry.plugins.module_utils._secrets import redact_urls

# Upload endpoints whose simple API is not below them.
_KNOWN_SIMPLE_URLS = {
    "https://upload.pypi.org/legacy/": "https://pypi.org/simple/",
    "https://test.pypi.org/legacy/": "https://test.pypi.org/simple/",
}
_SDIST_SUFFIXES = (".tar.gz", ".zip")
TIMEOUT = 30


def simple_url(upload_url):
    """The PEP 503 simple API of a repository, from the URL Poetry uploads to: PyPI's and
    TestPyPI's are known; an URL that ends in /simple is it; the others serve it at
    <upload URL>/simple/ (pypiserver, Nexus, Artifactory, GitLab, CodeArtifact)."""
    normalised = upload_url.rstrip("/") + "/"
    if normalised in _KNOWN_SIMPLE_URLS:
        return _KNOWN_SIMPLE_URLS[normalised]
    if normalised.endswith("/simple/"):
        return normalised
    return normalised + "simple/"


def distribution_key(filename):
    """("sdist", name, version) or ("wheel", name, version, tags) for a distribution's file name,
    the name normalised (Poetry 1.8 and 2.x spell an sdist's name differently); None for any
    other file."""
    if filename.endswith(".whl"):
        parts = filename[:-len(".whl")].split("-")
        if len(parts) not in (5, 6):
            return None
        return ("wheel", canonical_name(parts[0]), parts[1].lower(), "-".join(parts[2:]))
    for suffix in _SDIST_SUFFIXES:
        if filename.endswith(suffix):
            name, _sep, version = filename[:-len(suffix)].rpartition("-")
            if name and version:
                return ("sdist", canonical_name(name), version.lower())
    return None


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def parse_project_page(html, page_url):
    """[{filename, url, sha256}] for the links of a PEP 503 project page; sha256 is None when
    the link's fragment gives no sha256 (the file must then be read to know it)."""
    parser = _Links()
    parser.feed(html)
    files = []
    for href in parser.links:
        url, fragment = urldefrag(urljoin(page_url, href))
        algorithm, _sep, digest = fragment.partition("=")
        files.append({
            "filename": os.path.basename(url.rstrip("/")),
            "url": url,
            "sha256": digest.lower() if algorithm.lower() == "sha256" and digest else None,
        })
    return files


def release_files(published, name, version):
    """The files of one release among a project page's files, by their distribution_key()."""
    return [entry for entry in published
            if (distribution_key(entry["filename"]) or (None, None, None))[1:3] == (canonical_name(name), version.lower())]


def compare(built, published):
    """What to do with each built file, given the release's files on the index.

    built: [{filename, sha256}]; published: [{filename, sha256}] of the same release. A built
    file whose slot (distribution_key) the index has with the same sha256 is `published`; with
    another sha256, a conflict; a free slot, `upload`. Files of the release that were not built
    here (other wheels) are left alone. Returns {"published": [...], "upload": [...],
    "conflicts": [{filename, sha256, index_filename, index_sha256}]}.
    """
    on_index = {distribution_key(entry["filename"]): entry for entry in published}
    plan = {"published": [], "upload": [], "conflicts": []}
    for entry in built:
        there = on_index.get(distribution_key(entry["filename"]))
        if there is None:
            plan["upload"].append(entry["filename"])
        elif there["sha256"] == entry["sha256"]:
            plan["published"].append(entry["filename"])
        else:
            plan["conflicts"].append({
                "filename": entry["filename"], "sha256": entry["sha256"],
                "index_filename": there["filename"], "index_sha256": there["sha256"],
            })
    return plan


class Index:
    """A repository's simple API, read with the credentials and certificates Poetry would use.

    auth: (username, password) or None; tls: {validate_certs, ca_path, client_cert} for open_url.
    """

    def __init__(self, url, auth=None, tls=None, repository=None):
        self.url = url
        self.auth = auth
        self.tls = tls or {}
        self.repository = repository
        self._tls_context = None
        self._making_context = threading.Lock()

    def _context(self):
        """The TLS context of every request to the index, made on the first: making one reads all
        the system's CA certificates, which costs more than a request to an index nearby (build
        once's 90 requests took 2.3 s with a context each, 1.1 s with one)."""
        with self._making_context:
            if self._tls_context is None:
                self._tls_context = make_context(cafile=self.tls.get("ca_path"),
                                                 validate_certs=self.tls.get("validate_certs", True),
                                                 client_cert=self.tls.get("client_cert"))
            return self._tls_context

    def _open(self, url):
        username, password = self.auth or (None, None)
        return Request(context=self._context()).open(
            "GET", url, headers={"Accept": "text/html"}, url_username=username, url_password=password,
            force_basic_auth=self.auth is not None, timeout=TIMEOUT, http_agent="lockstep.poetry")

    def _fail(self, url, error):
        if isinstance(error, HTTPError) and error.code in (401, 403):
            return PoetryError(
                "the package index refused %s (HTTP %d from %s): give Poetry credentials for repository "
                "'%s' (http-basic.%s in Poetry's auth.toml, or %s and %s in the module's env option); "
                "the module reads the index with them"
                % ("the credentials" if self.auth else "to answer without credentials", error.code,
                   redact_urls(url), self.repository, self.repository,
                   setting_variable("http-basic.%s.username" % self.repository),
                   setting_variable("http-basic.%s.password" % self.repository)))
        reason = "HTTP %d" % error.code if isinstance(error, HTTPError) else getattr(error, "reason", error)
        return PoetryError("cannot read the package index at %s: %s" % (redact_urls(url), reason))

    def release(self, name, version):
        """The release's files on the index, each with its sha256 (read from the file itself when
        the page does not give it); [] when the index does not know the project."""
        page = "%s%s/" % (self.url, canonical_name(name))
        try:
            with self._open(page) as response:
                html = response.read().decode("utf-8", "replace")
                page = response.geturl() or page
        except HTTPError as error:
            if error.code == 404:
                return []
            raise self._fail(page, error)
        except (URLError, OSError, ValueError) as error:
            raise self._fail(page, error)
        files = release_files(parse_project_page(html, page), name, version)
        for entry in files:
            if entry["sha256"] is None:
                entry["sha256"] = self._digest(entry["url"])
        return [{"filename": entry["filename"], "sha256": entry["sha256"]} for entry in files]

    def download(self, name, filename, dest):
        """Writes the file filename of project name, as the index serves it, to dest."""
        page = "%s%s/" % (self.url, canonical_name(name))
        try:
            with self._open(page) as response:
                html = response.read().decode("utf-8", "replace")
                page = response.geturl() or page
        except (HTTPError, URLError, OSError, ValueError) as error:
            raise self._fail(page, error)
        urls = [entry["url"] for entry in parse_project_page(html, page) if entry["filename"] == filename]
        if not urls:
            raise PoetryError("the package index at %s does not serve %s (its page for %s lists no such file)"
                              % (redact_urls(self.url), filename, name))
        try:
            with self._open(urls[0]) as response, open(dest, "wb") as handle:
                shutil.copyfileobj(response, handle, 1024 * 1024)
        except (URLError, OSError, ValueError) as error:
            raise self._fail(urls[0], error)

    def _digest(self, url):
        scratch = tempfile.mkdtemp(prefix="lockstep-poetry-index-")
        path = os.path.join(scratch, "file")
        try:
            with self._open(url) as response, open(path, "wb") as handle:
                shutil.copyfileobj(response, handle)
            return file_digest(path)
        except (URLError, OSError, ValueError) as error:
            raise self._fail(url, error)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
