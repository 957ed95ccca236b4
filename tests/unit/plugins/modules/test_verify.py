# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lockstep.poetry.verify on a virtualenv laid out here: the dist-info directories of what the
fixture project's lock selects (fixtures/lock_selection/legacy-2.5.1), with RECORDs in the
form wheel installers write, and this Python as the virtualenv's interpreter."""

import base64
import hashlib
import os
import shutil
import sys

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils import _verify
from ansible_collections.lockstep.poetry.plugins.module_utils._lock_selection import marker_environment, select
from ansible_collections.lockstep.poetry.plugins.module_utils._toml import load
from ansible_collections.lockstep.poetry.plugins.modules import verify
from ansible_collections.lockstep.poetry.tests.unit.plugins.modules.run_module import run_module

PROJECT = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures", "lock_selection", "legacy-2.5.1")


def record_hash(data):
    """RECORD's form: sha256=<urlsafe base64 without padding>."""
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def install(site, name, version, files=None):
    """A dist-info as an installer leaves it, with a module of its own and a RECORD."""
    files = files if files is not None else {"%s/__init__.py" % name.replace("-", "_"): b"VERSION = %r\n" % version.encode()}
    dist_info = "%s-%s.dist-info" % (name.replace("-", "_"), version)
    os.makedirs(os.path.join(site, dist_info))
    metadata = ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n\nDescription: Name: not-this\n" % (name, version)).encode()
    files = dict(files, **{dist_info + "/METADATA": metadata})
    rows = []
    for path, data in files.items():
        full = os.path.join(site, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as handle:
            handle.write(data)
        rows.append('"%s",%s,%d' % (path, record_hash(data), len(data)) if "," in path else
                    "%s,%s,%d" % (path, record_hash(data), len(data)))
    rows.append("%s/RECORD,," % dist_info)
    with open(os.path.join(site, dist_info, "RECORD"), "w") as handle:
        handle.write("\n".join(rows) + "\n")


@pytest.fixture
def venv(tmp_path):
    """A virtualenv holding exactly what the lock selects for `only: [main]` here, and pip."""
    path = tmp_path / "venv"
    site = path / "lib" / ("python%d.%d" % sys.version_info[:2]) / "site-packages"
    os.makedirs(str(site))
    os.makedirs(str(path / "bin"))
    (path / "pyvenv.cfg").write_text("home = %s\n" % os.path.dirname(os.path.realpath(sys.executable)))
    os.symlink(sys.executable, str(path / "bin" / "python"))
    expected = select(load(os.path.join(PROJECT, "pyproject.toml")), load(os.path.join(PROJECT, "poetry.lock")),
                      {"only": ["main"]}, marker_environment())
    for distribution in expected.values():
        install(str(site), distribution["name"], distribution["version"])
    install(str(site), "pip", "24.0", {"pip/__init__.py": b"", "../../../bin/pip": b"#!python\n"})
    return {"path": str(path), "site": str(site), "expected": expected}


def run(capsys, venv, check_mode=False, **options):
    args = dict({"virtualenv": venv["path"], "project_path": PROJECT, "only": ["main"]}, **options)
    return run_module(verify, capsys, args, check_mode=check_mode)


def test_parse_record_quoted_paths_and_hash_form():
    text = ('pkg/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n'
            '"pkg/a,b.py",' + record_hash(b"a") + ',1\n'
            'pkg-1.0.dist-info/RECORD,,\n'
            '../../../bin/tool,sha512=z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg_SpIdNs6c5H0NE8XYXysP-DGNKHfuwvY7kxvUdBeoGlODJ6-SfaPg,0\n')
    assert _verify.parse_record(text) == [
        ("pkg/__init__.py", "sha256", hashlib.sha256(b"").hexdigest()),
        ("pkg/a,b.py", "sha256", hashlib.sha256(b"a").hexdigest()),
        ("pkg-1.0.dist-info/RECORD", None, None),
        ("../../../bin/tool", "sha512", hashlib.sha512(b"").hexdigest()),
    ]


def test_matches(capsys, venv):
    result = run(capsys, venv)
    assert result["matches"] is True, result
    assert result["changed"] is False
    assert result["missing"] == result["extra"] == result["wrong_version"] == result["modified_files"] == []
    assert result["checked"] == {"distributions": len(venv["expected"]) + 1, "files": 2 * len(venv["expected"]) + 3}
    assert result["python_version"] == marker_environment()["python_full_version"]
    assert result["lock_sha256"] == hashlib.sha256(open(os.path.join(PROJECT, "poetry.lock"), "rb").read()).hexdigest()
    assert result["summary"].startswith("matches the lock (sha256 %s)" % result["lock_sha256"][:12])
    assert run(capsys, venv, check_mode=True)["matches"] is True


def test_every_difference_is_named(capsys, venv):
    site = venv["site"]
    with open(os.path.join(site, "click", "__init__.py"), "a") as handle:
        handle.write("# edited by hand\n")
    os.remove(os.path.join(site, "idna", "__init__.py"))
    shutil.rmtree(os.path.join(site, "certifi-%s.dist-info" % venv["expected"]["certifi"]["version"]))
    shutil.rmtree(os.path.join(site, "urllib3-2.6.3.dist-info"))
    install(site, "urllib3", "2.6.0")
    install(site, "Six", "1.17.0", {"six.py": b"", "odd,name.py": b"x"})
    os.remove(os.path.join(site, "odd,name.py"))
    result = run(capsys, venv)
    assert result["matches"] is False
    assert result["missing"] == [{"name": "certifi", "version": venv["expected"]["certifi"]["version"]}]
    assert result["extra"] == [{"name": "six", "version": "1.17.0"}]
    assert result["wrong_version"] == [{"name": "urllib3", "locked": "2.6.3", "installed": "2.6.0"}]
    assert result["modified_files"] == [
        {"distribution": "click", "path": "click/__init__.py", "problem": "changed"},
        {"distribution": "idna", "path": "idna/__init__.py", "problem": "missing"},
        {"distribution": "six", "path": "odd,name.py", "problem": "missing"},
    ]
    assert "1 missing, 1 extra, 1 at another version, 3 files modified or missing" in result["summary"]
    without_files = run(capsys, venv, check_files=False)
    assert without_files["modified_files"] == [] and without_files["checked"]["files"] == 0


def test_pip_is_extra_only_in_name(capsys, venv):
    """pip is never extra; a lock that lists it has its version checked like any other."""
    assert "pip" not in [entry["name"] for entry in run(capsys, venv, with_groups=[], only=["docs"])["extra"]]


def test_root_project(capsys, venv, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(os.path.join(PROJECT, "poetry.lock"), str(project / "poetry.lock"))
    text = open(os.path.join(PROJECT, "pyproject.toml")).read().replace("package-mode = false", "")
    (project / "pyproject.toml").write_text(text)
    result = run(capsys, venv, project_path=str(project), root=True)
    assert result["missing"] == [{"name": "selection-legacy", "version": "0.1.0"}]
    install(venv["site"], "selection-legacy", "0.1.0", {"selection_legacy.pth": b"/srv/app\n"})
    assert run(capsys, venv, project_path=str(project), root=True)["matches"] is True
    assert run(capsys, venv, project_path=str(project))["extra"] == [{"name": "selection-legacy", "version": "0.1.0"}]


def test_file_outside_the_virtualenv_is_skipped(capsys, venv):
    install(venv["site"], "six", "1.17.0", {"../../../../outside.py": b"x"})
    os.remove(os.path.join(venv["site"], "../../../../outside.py"))
    result = run(capsys, venv)
    assert result["modified_files"] == []


@pytest.mark.parametrize("options, message", [
    ({"virtualenv": "/nonexistent/venv"}, "virtualenv /nonexistent/venv does not exist"),
    ({"project_path": "/nonexistent/project"}, "project_path /nonexistent/project does not exist"),
    ({"only": ["nope"]}, "only names groups the project does not have: nope"),
    ({"extras": ["fancy"], "all_extras": True}, "parameters are mutually exclusive: extras|all_extras"),
])
def test_bad_input(capsys, venv, options, message):
    result = run(capsys, venv, **options)
    assert result["failed"] is True
    assert message in result["msg"]


def test_no_lock(capsys, venv, tmp_path):
    shutil.copy(os.path.join(PROJECT, "pyproject.toml"), str(tmp_path / "pyproject.toml"))
    result = run(capsys, venv, project_path=str(tmp_path))
    assert result["failed"] is True
    assert result["msg"].startswith("no poetry.lock in %s" % tmp_path)


def test_not_a_virtualenv(capsys, venv):
    os.remove(os.path.join(venv["path"], "pyvenv.cfg"))
    assert "is not a virtualenv (no pyvenv.cfg there)" in run(capsys, venv)["msg"]
    os.remove(os.path.join(venv["path"], "bin", "python"))
    open(os.path.join(venv["path"], "pyvenv.cfg"), "w").close()
    assert "has no Python interpreter at" in run(capsys, venv)["msg"]
