# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PEP 440 versions, PEP 508 markers and requirements, and Poetry's version constraints, in the
standard library only: target hosts have no `packaging`, and lockstep.poetry.verify reads a lock
on them (module_utils/_lock_selection.py).

- version_key(text): a sortable key of a PEP 440 version, None when it is not one.
- parse_marker(text) -> a marker; evaluate(marker, environment, extras): True or False.
  Comparisons of version-like values (python_version, python_full_version, platform_release
  when it is a version) follow PEP 440, other values compare as strings (as packaging does);
  `extra` compares normalised names with the set of extras asked for.
- parse_requirement(text): name, extras and marker of "name[extra] >=1 ; marker" (PEP 508)
  and of Poetry's "name (>=1) ; marker" in lock files.
- constraint_allows(constraint, version): Poetry's constraints ("^1.2", "~1.2", ">=1,<2 || >3",
  "1.2.*", "*"), for picking among several locked versions of one package.
- marker_environment(): the running interpreter's environment (what packaging's
  default_environment() returns); ENVIRONMENT_CODE is the same code for another interpreter.

Private to this collection: no compatibility promise.
"""

import re

from ansible_collections.lockstep.poetry.plugins.module_utils._names import canonical_name


class MarkerError(ValueError):
    """A marker, requirement or constraint that cannot be read."""


_VERSION_RE = re.compile(
    r"^\s*v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre>a|b|c|rc|alpha|beta|pre|preview)[-_.]?(?P<pre_n>\d*))?"
    r"(?:-(?P<post_implicit>\d+)|[-_.]?(?:post|rev|r)[-_.]?(?P<post_n>\d*))?"
    r"(?:[-_.]?dev[-_.]?(?P<dev_n>\d*))?(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$",
    re.IGNORECASE,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
_BEFORE, _AFTER = float("-inf"), float("inf")


def _release(text):
    return [int(part) for part in text.split(".")]


def version_key(text):
    """A key that sorts PEP 440 versions in their order (local labels ignored); None when
    `text` is not a version."""
    match = _VERSION_RE.match(text or "")
    if not match:
        return None
    release = _release(match.group("release"))
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    post = match.group("post_implicit") or match.group("post_n")
    has_post = match.group("post_implicit") is not None or match.group("post_n") is not None
    dev = match.group("dev_n")
    if match.group("pre"):
        pre = (_PRE_RANK[match.group("pre").lower()], int(match.group("pre_n") or 0))
    elif dev is not None and not has_post:
        pre = (_BEFORE,)  # 1.0.dev1 sorts before 1.0a1
    else:
        pre = (_AFTER,)
    return (int(match.group("epoch") or 0), tuple(release), pre,
            int(post or 0) if has_post else _BEFORE, int(dev or 0) if dev is not None else _AFTER)


def _compare(version, op, other):
    """PEP 440 comparison of two version strings; None when either is not a version."""
    if op == "===":
        return version == other
    if op in ("==", "!=") and other.endswith(".*"):
        match = _VERSION_RE.match(version)
        if not match or version_key(other[:-2]) is None:
            return None
        prefix = _release(other[:-2])
        found = (_release(match.group("release")) + [0] * len(prefix))[:len(prefix)] == prefix
        return found if op == "==" else not found
    left, right = version_key(version), version_key(other)
    if left is None or right is None:
        return None
    if op == "~=":
        release = _release(_VERSION_RE.match(other).group("release"))
        if len(release) < 2:
            return None
        return left >= right and _compare(version, "==", ".".join(map(str, release[:-1])) + ".*")
    return {"==": left == right, "!=": left != right, "<": left < right, "<=": left <= right,
            ">": left > right, ">=": left >= right}.get(op)


# Markers: ("and"|"or", left, right) or ("compare", left, op, right); a side is ("variable",
# name) or ("string", value).
_VARIABLES = {
    "implementation_name", "implementation_version", "os_name", "platform_machine",
    "platform_release", "platform_system", "platform_version", "python_full_version",
    "platform_python_implementation", "python_version", "sys_platform", "extra",
    # Legacy spellings PEP 508 still accepts.
    "os.name", "sys.platform", "platform.version", "platform.machine",
    "platform.python_implementation", "python_implementation",
}
_LEGACY = {"os.name": "os_name", "sys.platform": "sys_platform", "platform.version": "platform_version",
           "platform.machine": "platform_machine", "python_implementation": "platform_python_implementation",
           "platform.python_implementation": "platform_python_implementation"}
_TOKEN_RE = re.compile(
    r"\s*(?:(?P<string>'[^']*'|\"[^\"]*\")|(?P<op>===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)"
    r"|(?P<paren>[()])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)


def _tokens(text):
    position, tokens = 0, []
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if not match or match.end() == position:
            raise MarkerError("cannot read the marker %r at %r" % (text, text[position:]))
        kind = match.lastgroup
        value = match.group(kind)
        tokens.append((kind, re.sub(r"\s+", " ", value) if kind == "op" else value))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text):
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0

    def fail(self, what):
        raise MarkerError("cannot read the marker %r: %s" % (self.text, what))

    def peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        self.position += 1
        return token

    def parse(self):
        marker = self.boolean("or")
        if self.position != len(self.tokens):
            self.fail("unexpected %r" % (self.peek()[1],))
        return marker

    def boolean(self, word):
        left = self.boolean("and") if word == "or" else self.atom()
        while self.peek() == ("word", word):
            self.take()
            left = (word, left, self.boolean("and") if word == "or" else self.atom())
        return left

    def atom(self):
        if self.peek() == ("paren", "("):
            self.take()
            inner = self.boolean("or")
            if self.take() != ("paren", ")"):
                self.fail("a parenthesis is not closed")
            return inner
        left = self.value()
        kind, op = self.take()
        if kind != "op":
            self.fail("expected a comparison after %r" % (left[1],))
        return ("compare", left, op, self.value())

    def value(self):
        kind, text = self.take()
        if kind == "string":
            return ("string", text[1:-1])
        if kind == "word" and text in _VARIABLES:
            return ("variable", _LEGACY.get(text, text))
        return self.fail("unknown variable %r" % (text,))


def parse_marker(text):
    """The marker of a PEP 508 marker expression; MarkerError when it cannot be read."""
    return _Parser(text).parse()


def _compare_extra(extras, op, name):
    if op not in ("==", "!="):
        raise MarkerError("extra can only be compared with == or !=, not %s" % op)
    return (canonical_name(name) in extras) == (op == "==")


def evaluate(marker, environment, extras=()):
    """Whether `marker` (parse_marker's, or None for none) holds in `environment` (a marker
    environment) with the extras `extras` asked for."""
    if marker is None:
        return True
    if marker[0] == "and":
        return evaluate(marker[1], environment, extras) and evaluate(marker[2], environment, extras)
    if marker[0] == "or":
        return evaluate(marker[1], environment, extras) or evaluate(marker[2], environment, extras)
    _compare_kind, left, op, right = marker
    wanted = {canonical_name(extra) for extra in extras}
    if left == ("variable", "extra"):
        return _compare_extra(wanted, op, right[1])
    if right == ("variable", "extra"):
        return _compare_extra(wanted, op, left[1])
    lhs, rhs = [environment.get(side[1], "") if side[0] == "variable" else side[1] for side in (left, right)]
    if op == "in":
        return lhs in rhs
    if op == "not in":
        return lhs not in rhs
    result = _compare(lhs, op, rhs)
    if result is not None:
        return result
    return {"==": lhs == rhs, "===": lhs == rhs, "!=": lhs != rhs, "<": lhs < rhs, "<=": lhs <= rhs,
            ">": lhs > rhs, ">=": lhs >= rhs, "~=": False}[op]


def conjunction(*markers):
    """The marker that holds where all of `markers` (None: always) hold."""
    result = None
    for marker in markers:
        if marker is not None:
            result = marker if result is None else ("and", result, marker)
    return result


_REQUIREMENT_RE = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[(?P<extras>[^\]]*)\])?\s*"
    r"(?P<constraint>\([^)]*\)|@\s*[^;]*?(?=\s+;|$)|[^;@]*?)\s*(?:;(?P<marker>.*))?$"
)


def parse_requirement(text):
    """{"name", "extras", "constraint", "marker"} of a requirement string, PEP 508 or Poetry's
    "name (constraint)"; MarkerError when it cannot be read."""
    match = _REQUIREMENT_RE.match(text or "")
    if not match:
        raise MarkerError("cannot read the requirement %r" % (text,))
    constraint = match.group("constraint").strip()
    if constraint.startswith("("):
        constraint = constraint[1:-1].strip()
    marker = match.group("marker")
    return {
        "name": match.group("name"),
        "extras": [extra.strip() for extra in (match.group("extras") or "").split(",") if extra.strip()],
        "constraint": "" if constraint.startswith("@") else constraint,
        "marker": parse_marker(marker) if marker and marker.strip() else None,
    }


_CONSTRAINT_RE = re.compile(r"^(?P<op>\^|~=|~|===|==|!=|<=|>=|<|>|=)?\s*(?P<version>\S+)$")


def _bounds(op, version):
    """Poetry's ^ and ~ as a pair of comparisons."""
    release = _release(_VERSION_RE.match(version).group("release"))
    if op == "^":
        index = next((i for i, part in enumerate(release) if part != 0), len(release) - 1)
    else:
        index = min(1, len(release) - 1)  # ~1.2.3 and ~1.2: <1.3; ~1: <2
    upper = release[:index + 1]
    upper[-1] += 1
    return [(">=", version), ("<", ".".join(map(str, upper)))]


def constraint_allows(constraint, version):
    """Whether a Poetry constraint allows `version`; MarkerError when it cannot be read."""
    for alternative in (constraint or "*").split("||"):
        parts = [part for part in re.split(r",|\s+(?=[<>=!~^])", alternative.strip()) if part.strip()]
        allowed = True
        for part in parts:
            part = part.strip()
            if part in ("*", ""):
                continue
            match = _CONSTRAINT_RE.match(part)
            if not match or version_key(match.group("version").replace(".*", "")) is None:
                raise MarkerError("cannot read the version constraint %r" % (constraint,))
            op, bound = match.group("op") or "==", match.group("version")
            checks = _bounds(op, bound) if op in ("^", "~") else [("==" if op == "=" else op, bound)]
            allowed = allowed and all(_compare(version, check_op, check) for check_op, check in checks)
        if allowed:
            return True
    return False


# Run by lockstep.poetry.verify with a virtualenv's own interpreter (`python -c`), and in
# marker_environment() here: the same code answers for either interpreter.
ENVIRONMENT_CODE = """
import json, os, platform, sys


def marker_environment():
    info = sys.implementation.version
    version = "%d.%d.%d" % (info.major, info.minor, info.micro)
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }
"""
# Prints the environment as JSON: `python -c PRINT_ENVIRONMENT_CODE`.
PRINT_ENVIRONMENT_CODE = ENVIRONMENT_CODE + "\nprint(json.dumps(marker_environment()))\n"


def marker_environment():
    """The marker environment of the running interpreter (packaging's default_environment())."""
    namespace = {}
    exec(compile(ENVIRONMENT_CODE, "<marker environment>", "exec"), namespace)  # pylint: disable=exec-used
    return namespace["marker_environment"]()
