# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import re
import sys
import tarfile
import zipfile

import pytest

from ansible_collections.lockstep.poetry.plugins.module_utils._wheel_files import BYTECODE, MANIFEST
from ansible_collections.lockstep.poetry.plugins.module_utils._wheelhouse import (
    PYPI_SIMPLE, REQUIREMENTS, WheelhouseError, best_wheel, build, bytecode_python, choose, package_index,
    requirements_text, wheel_tags)

# A CPython 3.11 on x86_64 with glibc 2.36, most specific first (a few of its tags).
TAGS = ["cp311-cp311-linux_x86_64", "cp311-cp311-manylinux_2_36_x86_64", "cp311-cp311-manylinux_2_17_x86_64",
        "cp311-cp311-manylinux2014_x86_64", "cp311-abi3-manylinux_2_17_x86_64", "cp310-abi3-manylinux_2_17_x86_64",
        "py3-none-manylinux_2_17_x86_64", "cp311-none-any", "py311-none-any", "py3-none-any"]


def entry(name, digest="a" * 64):
    return {"file": name, "hash": "sha256:" + digest}


@pytest.mark.parametrize("filename, expected", [
    ("gunicorn-23.0.0-py3-none-any.whl", {"py3-none-any"}),
    ("six-1.16.0-py2.py3-none-any.whl", {"py2-none-any", "py3-none-any"}),
    ("x-1-1build-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
     {"cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux2014_x86_64"}),
    ("gunicorn-23.0.0.tar.gz", None),
    ("broken.whl", None),
])
def test_wheel_tags_of_a_file_name(filename, expected):
    assert wheel_tags(filename) == expected


@pytest.mark.parametrize("files, expected", [
    # Pure Python: the only wheel, never the sdist.
    (["a-1.tar.gz", "a-1-py3-none-any.whl"], "a-1-py3-none-any.whl"),
    # The most specific tag wins over a pure wheel and a more generic ABI.
    (["a-1-py3-none-any.whl", "a-1-cp310-abi3-manylinux_2_17_x86_64.whl",
      "a-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"],
     "a-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
    # Wheels for other Pythons or platforms do not fit.
    (["a-1-cp312-cp312-manylinux_2_17_x86_64.whl", "a-1-cp311-cp311-macosx_11_0_arm64.whl", "a-1.tar.gz"], None),
    ([], None),
])
def test_best_wheel_for_the_host(files, expected):
    found = best_wheel([entry(name) for name in files], TAGS)
    assert (found and found["file"]) == expected


def package(name, version, files, source=None):
    return {"name": name, "version": version, "files": [entry(item) for item in files], "source": source}


def test_choose_names_every_package_without_a_wheel():
    packages = {
        "good": package("good", "1", ["good-1-py3-none-any.whl"]),
        "native": package("Native", "2.0", ["native-2.0-cp312-cp312-manylinux_2_17_x86_64.whl"]),
        "sdist-only": package("sdist-only", "3", ["sdist-only-3.tar.gz"]),
    }
    with pytest.raises(WheelhouseError) as caught:
        choose(packages, TAGS, "CPython 3.11 on x86_64")
    message = str(caught.value)
    assert "Native 2.0, sdist-only 3" in message
    assert "CPython 3.11 on x86_64" in message
    assert "poetry_app_build_on: host" in message


def test_choose_needs_sha256_hashes():
    packages = {"md5": {"name": "md5", "version": "1", "files": [{"file": "md5-1-py3-none-any.whl", "hash": "md5:abc"}]}}
    with pytest.raises(WheelhouseError, match="no sha256 hash"):
        choose(packages, TAGS, "the hosts")


def test_requirements_pin_version_and_hash():
    chosen = choose({"b": package("B", "2", ["b-2-py3-none-any.whl"]), "a": package("a", "1", ["a-1-py3-none-any.whl"])},
                    TAGS, "the hosts")
    assert requirements_text(chosen) == "a==1 --hash=sha256:%s\nB==2 --hash=sha256:%s\n" % ("a" * 64, "a" * 64)


@pytest.mark.parametrize("source, expected", [
    (None, (PYPI_SIMPLE, None)),
    ({"type": "legacy", "url": "http://127.0.0.1:8080/simple", "reference": "internal"},
     ("http://127.0.0.1:8080/simple/", "internal")),
])
def test_package_index(source, expected):
    assert package_index(source) == expected


def test_package_index_refuses_what_is_not_an_index():
    with pytest.raises(WheelhouseError, match="a git source"):
        package_index({"type": "git", "url": "https://git.example.com/lib.git"})


class FakeIndex:
    """Serves given bytes for each file name, as an Index downloads them."""

    url = "http://127.0.0.1:1/simple/"

    def __init__(self, content):
        self.content = content

    def download(self, name, filename, dest):
        with open(dest, "wb") as handle:
            handle.write(self.content[filename])


def test_build_packs_checked_wheels_with_their_requirements(tmp_path):
    wheel = b"a wheel"
    digest = hashlib.sha256(wheel).hexdigest()
    chosen = [{"name": "a", "version": "1", "file": "a-1-py3-none-any.whl", "sha256": digest, "source": None}]
    archive = str(tmp_path / "key.tar")
    build(chosen, lambda source: FakeIndex({"a-1-py3-none-any.whl": wheel}), archive, {"lock_sha256": "x"})
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == sorted(["a-1-py3-none-any.whl", REQUIREMENTS, MANIFEST])
        assert tar.extractfile(REQUIREMENTS).read().decode() == "a==1 --hash=sha256:%s\n" % digest
        assert json.loads(tar.extractfile(MANIFEST).read()) == {"lock_sha256": "x"}
    # Nothing else is left beside the archive.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["key.tar"]


def test_build_fails_on_a_file_the_lock_does_not_have(tmp_path):
    chosen = [{"name": "gunicorn", "version": "23.0.0", "file": "gunicorn-23.0.0-py3-none-any.whl",
               "sha256": "0" * 64, "source": None}]
    archive = str(tmp_path / "key.tar")
    with pytest.raises(WheelhouseError) as caught:
        build(chosen, lambda source: FakeIndex({"gunicorn-23.0.0-py3-none-any.whl": b"another file"}), archive, {})
    assert "gunicorn 23.0.0" in str(caught.value)
    assert "is not the one poetry.lock gives it" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_build_asks_for_each_package_index_once(tmp_path):
    wheels = {"a-1-py3-none-any.whl": b"a", "b-1-py3-none-any.whl": b"b", "c-1-py3-none-any.whl": b"c"}
    private = {"type": "legacy", "url": "http://127.0.0.1:1/simple", "reference": "private"}
    chosen = [{"name": name[0], "version": "1", "file": name, "sha256": hashlib.sha256(content).hexdigest(),
               "source": None if name.startswith("a") else dict(private)}
              for name, content in sorted(wheels.items())]
    opened = []

    def open_index(source):
        opened.append(source)
        return FakeIndex(wheels)

    build(chosen, open_index, str(tmp_path / "key.tar"), {})
    assert opened == [None, private]


# The ABI tag of the Python that runs the tests (cp311), at the head of the tags of its hosts' kind.
OWN_ABI = "cp%d%d%s" % (sys.version_info[0], sys.version_info[1], sys.abiflags)
OWN_TAGS = ["%s-%s-linux_x86_64" % (OWN_ABI, OWN_ABI), "py3-none-any"]


def wheel_bytes(files):
    """A wheel of files ({member: text}) with its dist-info."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as wheel:
        dist_info = {"demo-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\n", "demo-1.0.dist-info/RECORD": ""}
        for member, text in dict(files, **dist_info).items():
            wheel.writestr(member, text)
    return out.getvalue()


@pytest.mark.parametrize("tags, found", [
    # The first candidate of the hosts' ABI; what does not run, or is missing, is passed over.
    (OWN_TAGS, True),
    # No Python here writes a CPython 2.7's bytecode, nor another implementation's.
    (["cp27-cp27mu-linux_x86_64", "py2-none-any"], False),
    (["pp310-pypy310_pp73-linux_x86_64", "py3-none-any"], False),
])
def test_bytecode_python_is_one_of_the_hosts_abi(tmp_path, tags, found):
    compiler = bytecode_python(tags, [None, str(tmp_path / "no-such-python"), sys.executable, sys.executable])
    if not found:
        assert compiler is None
        return
    assert compiler == {"python": sys.executable, "cache_tag": sys.implementation.cache_tag,
                        "magic": importlib.util.MAGIC_NUMBER.hex()}


def test_build_compiles_the_modules_site_packages_gets_once(tmp_path):
    wheel = wheel_bytes({"demo/__init__.py": "VALUE = 1\n", "demo/old.py": "print 'for Python 2'\n",
                         "demo-1.0.data/purelib/demo_extra.py": "import demo\n",
                         "demo-1.0.data/scripts/demo-tool.py": "print('a script')\n"})
    name = "demo-1.0-py3-none-any.whl"
    chosen = [{"name": "demo", "version": "1.0", "file": name, "sha256": hashlib.sha256(wheel).hexdigest(),
               "source": None}]
    archive = str(tmp_path / "key.tar")
    build(chosen, lambda source: FakeIndex({name: wheel}), archive, {"lock_sha256": "x"}, python=sys.executable)
    tag = sys.implementation.cache_tag
    with tarfile.open(archive) as tar:
        assert sorted(member for member in tar.getnames() if member.startswith(BYTECODE)) == [
            BYTECODE, "%s/%s.zip" % (BYTECODE, name)]
        with zipfile.ZipFile(tar.extractfile("%s/%s.zip" % (BYTECODE, name))) as bytecode:
            # At their place in site-packages; no source, no script, and nothing for the module that
            # does not compile (a host passes over it too).
            assert sorted(bytecode.namelist()) == ["__pycache__/demo_extra.%s.pyc" % tag,
                                                   "demo/__pycache__/__init__.%s.pyc" % tag]
            pyc = bytecode.read("demo/__pycache__/__init__.%s.pyc" % tag)
    # Checked hash-based (PEP 552): the flags say so, and the hash is the source's.
    assert pyc[:4] == importlib.util.MAGIC_NUMBER and int.from_bytes(pyc[4:8], "little") == 0b11
    assert pyc[8:16] == importlib.util.source_hash(b"VALUE = 1\n")


def test_build_compiles_each_wheel_beside_the_downloads(tmp_path):
    # More wheels than compilers, and one with no module at all, which gets no bytecode.
    wheels = {"demo%d-1.0-py3-none-any.whl" % number: wheel_bytes({"demo%d/__init__.py" % number: "VALUE = %d\n" % number})
              for number in range(6)}
    wheels["data-1.0-py3-none-any.whl"] = wheel_bytes({"demo-1.0.data/data/share/demo.txt": "text\n"})
    chosen = [{"name": name.split("-")[0], "version": "1.0", "file": name, "sha256": hashlib.sha256(wheel).hexdigest(),
               "source": None} for name, wheel in sorted(wheels.items())]
    archive = str(tmp_path / "key.tar")
    build(chosen, lambda source: FakeIndex(wheels), archive, {"lock_sha256": "x"}, python=sys.executable)
    with tarfile.open(archive) as tar:
        assert sorted(member for member in tar.getnames() if member.startswith(BYTECODE + "/")) == [
            "%s/demo%d-1.0-py3-none-any.whl.zip" % (BYTECODE, number) for number in range(6)]
        for number in range(6):
            with zipfile.ZipFile(tar.extractfile("%s/demo%d-1.0-py3-none-any.whl.zip" % (BYTECODE, number))) as zipped:
                assert zipped.namelist() == ["demo%d/__pycache__/__init__.%s.pyc" % (number, sys.implementation.cache_tag)]
    # Nothing is left of the scratch space.
    assert [path.name for path in tmp_path.iterdir()] == ["key.tar"]


@pytest.mark.parametrize("python, said", [
    ("/nonexistent/python3", "cannot run /nonexistent/python3 to compile the modules"),
    # A program that ends at once, as a Python that crashed would.
    ("/bin/true", "/bin/true could not compile the modules of demo0-1.0-py3-none-any.whl (exit status 0)"),
])
def test_build_fails_when_the_modules_cannot_be_compiled(tmp_path, python, said):
    wheels = {"demo0-1.0-py3-none-any.whl": wheel_bytes({"demo0/__init__.py": "VALUE = 0\n"})}
    chosen = [{"name": "demo0", "version": "1.0", "file": name, "sha256": hashlib.sha256(wheel).hexdigest(),
               "source": None} for name, wheel in wheels.items()]
    with pytest.raises(WheelhouseError, match=re.escape(said)):
        build(chosen, lambda source: FakeIndex(wheels), str(tmp_path / "key.tar"), {}, python=python)
    assert not (tmp_path / "key.tar").exists()
    assert [path.name for path in tmp_path.iterdir()] == []
