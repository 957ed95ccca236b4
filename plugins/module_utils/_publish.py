# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build a project and publish it once, for lockstep.poetry.publish.

- repository_settings(): the upload URL, credentials and certificates Poetry would use for a
  repository, from the same places in the same order (pure, over the environment and the
  parsed configuration files).
- Publisher.ensure(): build into a scratch directory outside the project, read the release on
  the index (module_utils/_index.py), upload only the files it lacks, and refuse a release the
  index holds with other bytes.

Private to this collection: no compatibility promise.
"""

import os
import shutil
import tempfile

from ansible_collections.lockstep.poetry.plugins.module_utils import _toml
from ansible_collections.lockstep.poetry.plugins.module_utils._hashing import file_digest
from ansible_collections.lockstep.poetry.plugins.module_utils._index import Index, compare, distribution_key, simple_url
from ansible_collections.lockstep.poetry.plugins.module_utils._names import setting_variable
from ansible_collections.lockstep.poetry.plugins.module_utils._poetry_config import (
    auth_file,
    config_dir,
    config_file,
    project_config_file,
)
from ansible_collections.lockstep.poetry.plugins.module_utils._runner import PoetryError
from ansible_collections.lockstep.poetry.plugins.module_utils._secrets import redact_urls

PYPI = "pypi"
PYPI_UPLOAD_URL = "https://upload.pypi.org/legacy/"
FORMATS = ("sdist", "wheel")
# `poetry build` runs in an environment (Poetry 1.8 creates the project's virtualenv for it);
# building a pure project needs none, and check mode must create nothing.
BUILD_ENVIRONMENT = {"POETRY_VIRTUALENVS_CREATE": "false"}


def _get(document, setting):
    value = document
    for key in setting.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def poetry_setting(setting, environ, documents):
    """A dotted setting as Poetry 1.8 and 2.x read it: its environment variable first, then the
    configuration files, the first that has it (documents in that order: the project's
    poetry.toml, auth.toml, config.toml)."""
    variable = setting_variable(setting)
    if environ.get(variable):
        return environ[variable]
    for document in documents:
        value = _get(document, setting)
        if value not in (None, ""):
            return value
    return None


def repository_settings(name, environ, documents):
    """{url, auth, tls} Poetry would use to publish to repository `name`: its URL
    (repositories.NAME.url; PyPI's is built in), a token (pypi-token.NAME, sent as user
    __token__) before http-basic.NAME, and certificates.NAME (cert: a CA bundle, or false to
    skip verification; client-cert). url is None when the repository is not configured."""
    url = PYPI_UPLOAD_URL if name == PYPI else poetry_setting("repositories.%s.url" % name, environ, documents)
    token = poetry_setting("pypi-token.%s" % name, environ, documents)
    username = poetry_setting("http-basic.%s.username" % name, environ, documents)
    password = poetry_setting("http-basic.%s.password" % name, environ, documents)
    if token:
        auth = ("__token__", str(token))
    elif username or password:
        auth = (str(username or ""), str(password or ""))
    else:
        auth = None
    tls = {}
    cert = poetry_setting("certificates.%s.cert" % name, environ, documents)
    if cert is False or str(cert).lower() == "false":
        tls["validate_certs"] = False
    elif cert not in (None, True) and str(cert).lower() != "true":
        tls["ca_path"] = os.path.expanduser(str(cert))
    client_cert = poetry_setting("certificates.%s.client-cert" % name, environ, documents)
    if client_cert:
        tls["client_cert"] = os.path.expanduser(str(client_cert))
    return {"url": url, "auth": auth, "tls": tls}


def configuration_documents(project_path, environ):
    """Poetry's configuration as it reads it for this project: poetry.toml, auth.toml, config.toml."""
    directory = config_dir(environ=environ)
    paths = [project_config_file(project_path), auth_file(directory), config_file(directory)]
    try:
        return [_toml.load(path, missing_ok=True) for path in paths]
    except _toml.TomlError as error:
        raise PoetryError(error.msg)


class Publisher:
    """Publishes one project's build to one repository.

    runner: PoetryRunner; project: Project; repository: the name Poetry knows it by; url: the
    upload URL when Poetry's configuration does not have it (handed to Poetry as
    POETRY_REPOSITORIES_<NAME>_URL); index_url: the simple API when it is not <url>/simple/;
    formats: what to build (FORMATS).
    """

    def __init__(self, runner, project, repository, url=None, index_url=None, formats=FORMATS):
        self.runner = runner
        self.project = project
        self.repository = repository
        self.formats = sorted(set(formats))
        self.env = {}
        if url:
            if repository == PYPI:
                raise PoetryError("url: PyPI's upload URL is built into Poetry; give another repository name for %s"
                                  % redact_urls(url))
            self.env[setting_variable("repositories.%s.url" % repository)] = url
        environ = dict(runner.environ(), **self.env)
        self.settings = repository_settings(repository, environ, configuration_documents(project.path, environ))
        if not self.settings["url"]:
            raise PoetryError(
                "repository '%s' is not configured in Poetry: set its upload URL (repositories.%s.url, "
                "e.g. with lockstep.poetry.config, or %s in env), or give the module's url option"
                % (repository, repository, setting_variable("repositories.%s.url" % repository)))
        self.index_url = index_url or simple_url(self.settings["url"])
        # Read from auth.toml, so not among the env option's secrets: never in the result either.
        if self.settings["auth"] and self.settings["auth"][1]:
            runner.module.no_log_values.add(self.settings["auth"][1])

    def build(self, directory):
        """Build the asked formats into `directory`; [{filename, sha256}] of what was built."""
        args = ["build", "--output", directory]
        if len(self.formats) == 1:
            args.append("--format=%s" % self.formats[0])
        self.runner.run(args, cwd=self.project.path, env=dict(BUILD_ENVIRONMENT, **self.env))
        built = sorted(name for name in os.listdir(directory) if distribution_key(name))
        if not built:
            raise PoetryError("poetry build made no distribution in %s" % directory)
        return [{"filename": name, "sha256": file_digest(os.path.join(directory, name))} for name in built]

    def upload(self, directory, filenames):
        """`poetry publish` of exactly these files (Poetry uploads whatever it finds for the
        release in the directory, so they go into one of their own)."""
        upload = os.path.join(directory, "upload")
        os.mkdir(upload)
        for name in filenames:
            os.link(os.path.join(directory, name), os.path.join(upload, name))
        args = ["publish", "--dist-dir", upload]
        if self.repository != PYPI:
            args.append("--repository=%s" % self.repository)
        self.runner.run(args, cwd=self.project.path, env=self.env)

    def ensure(self, check_mode=False):
        """Build, compare with the index, upload what is missing. Returns the module result;
        PoetryError (nothing uploaded) when the index holds the release with other files."""
        self.project.require_pyproject()
        scratch = tempfile.mkdtemp(prefix="lockstep-poetry-publish-")
        try:
            built = self.build(scratch)
            _kind, name, version = distribution_key(built[0]["filename"])[:3]
            index = Index(self.index_url, self.settings["auth"], self.settings["tls"], self.repository)
            published = index.release(name, version)
            plan = compare(built, published)
            if plan["conflicts"]:
                raise PoetryError(
                    "%s %s is on the index at %s with other files than this build: %s. Nothing was uploaded; "
                    "publish a new version (an index should never serve two different files under one name)"
                    % (name, version, redact_urls(self.index_url), "; ".join(
                        "%s (built sha256 %s, index has %s with sha256 %s)"
                        % (c["filename"], c["sha256"], c["index_filename"], c["index_sha256"])
                        for c in plan["conflicts"])))
            if plan["upload"] and not check_mode:
                self.upload(scratch, plan["upload"])
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        before = {entry["filename"]: entry["sha256"] for entry in published}
        after = dict(before, **{entry["filename"]: entry["sha256"] for entry in built})
        return {
            "changed": bool(plan["upload"]),
            "name": name,
            "version": version,
            "repository": self.repository,
            "index_url": redact_urls(self.index_url),
            "built": built,
            "uploaded": plan["upload"],
            "published": plan["published"],
            "diff": {"before": dict(sorted(before.items())), "after": dict(sorted(after.items()))},
        }
