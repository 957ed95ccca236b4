# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The distributions Poetry installs from a lock, for a selection of groups and extras and a
marker environment, without Poetry: what lockstep.poetry.verify compares an environment with.

select(pyproject, lock, selection, environment) -> {canonical name: {"name", "version",
"hashes", "files"}}, from the data of pyproject.toml and poetry.lock (module_utils/_toml.py).

- Groups: "main" is [tool.poetry.dependencies] or PEP 621's [project.dependencies] (which
  [tool.poetry.dependencies] may enrich with markers and extras), "dev" Poetry 1.8's
  [tool.poetry.dev-dependencies], any other [tool.poetry.group.X.dependencies] or PEP 735's
  [dependency-groups]. Selected as Poetry's --only/--with/--without do it: `only`, else every
  group not marked optional, plus `with_groups`, minus `without_groups`.
- Lock 2.1 (Poetry 2) records for each package its groups and the marker under which each
  group needs it (extras as `extra == "x"`): a package is installed when one of its selected
  groups' markers holds, as Poetry 2's installer decides.
- Lock 2.0 (Poetry 1.8) records neither: its dependencies are walked as Poetry 1.8 resolves
  again from the lock, from the project's dependencies of the selected groups through each
  package's [package.dependencies] (markers, python, platform; a package's optional
  dependencies only for the extras asked of it); then a package the lock marks optional is
  kept only when an extra asked for reaches it ([extras] of the lock).

Private to this collection: no compatibility promise.
"""

from ansible_collections.lockstep.poetry.plugins.module_utils._markers import (
    MarkerError, conjunction, constraint_allows, evaluate, marker_environment, parse_marker, parse_requirement,
)
from ansible_collections.lockstep.poetry.plugins.module_utils._names import canonical_name

__all__ = ["LockSelectionError", "MAIN_GROUP", "marker_environment", "select", "selected_groups"]

MAIN_GROUP = "main"
# Poetry 1.8 adds dependencies from [tool.poetry.dev-dependencies] to this group.
LEGACY_DEV_GROUP = "dev"


class LockSelectionError(Exception):
    """A project, lock or selection that cannot be read or does not fit together."""


class Dependency:
    """One requirement: a canonical name, extras asked of it, a constraint and a marker."""

    def __init__(self, name, constraint="", marker=None, extras=(), optional=False):
        self.name = canonical_name(name)
        self.constraint = constraint
        self.marker = marker
        self.extras = {canonical_name(extra) for extra in extras}
        self.optional = optional

    @classmethod
    def from_pep508(cls, text, optional=False):
        requirement = parse_requirement(text)
        return cls(requirement["name"], requirement["constraint"], requirement["marker"],
                   requirement["extras"], optional)


def _python_marker(constraint):
    """Poetry's `python = "<3.11"` as a marker: python_version for X.Y bounds,
    python_full_version for X.Y.Z ones (as poetry-core writes them)."""
    if constraint in (None, "", "*"):
        return None
    return ("python", constraint)


def poetry_dependencies(name, value):
    """The Dependency objects of one [tool.poetry...dependencies] or [package.dependencies]
    entry: a constraint string, a table, or a list of tables (one per constraint)."""
    tables = value if isinstance(value, list) else [value]
    dependencies = []
    for table in tables:
        if not isinstance(table, dict):
            table = {"version": table}
        platform = table.get("platform")
        marker = conjunction(
            parse_marker(table["markers"]) if table.get("markers") else None,
            _python_marker(table.get("python")),
            ("compare", ("variable", "sys_platform"), "==", ("string", platform)) if platform else None,
        )
        dependencies.append(Dependency(name, table.get("version", ""), marker, table.get("extras", ()),
                                       bool(table.get("optional", False))))
    return dependencies


def _holds(marker, environment, extras=()):
    """evaluate() with Poetry's `python` constraints inside markers."""
    if marker is None:
        return True
    if marker[0] == "python":
        version = environment["python_full_version"] if any(
            part.count(".") >= 2 for part in marker[1].replace("||", ",").split(",")
        ) else environment["python_version"]
        return constraint_allows(marker[1], version)
    if marker[0] in ("and", "or"):
        left, right = _holds(marker[1], environment, extras), _holds(marker[2], environment, extras)
        return (left and right) if marker[0] == "and" else (left or right)
    return evaluate(marker, environment, extras)


def _table(data, *keys):
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _poetry_table_dependencies(table):
    return [dependency for name, value in table.items() if name != "python"
            for dependency in poetry_dependencies(name, value)]


def _enriched(project_dependency, poetry_dependencies_by_name):
    """A [project] dependency with what [tool.poetry.dependencies] says of the same name."""
    for extra in poetry_dependencies_by_name.get(project_dependency.name, []):
        project_dependency.marker = conjunction(project_dependency.marker, extra.marker)
        project_dependency.extras |= extra.extras
    return project_dependency


def _pep735_group(groups, name, seen=()):
    dependencies = []
    for entry in groups.get(name, []):
        if isinstance(entry, dict) and "include-group" in entry:
            if entry["include-group"] in seen:
                raise LockSelectionError("dependency group %s includes itself" % name)
            dependencies += _pep735_group(groups, entry["include-group"], tuple(seen) + (name,))
        else:
            dependencies.append(Dependency.from_pep508(entry))
    return dependencies


def project_groups(pyproject):
    """({group: [Dependency]}, {optional group names}, {extra: [canonical names]}) of a
    pyproject.toml's data."""
    project = _table(pyproject, "project")
    poetry = _table(pyproject, "tool", "poetry")
    poetry_main = _poetry_table_dependencies(_table(poetry, "dependencies"))
    extras = {canonical_name(extra): [canonical_name(name) for name in names]
              for extra, names in _table(poetry, "extras").items()}
    groups, optional = {MAIN_GROUP: poetry_main}, set()
    if project.get("dependencies") or project.get("optional-dependencies"):
        by_name = {}
        for dependency in poetry_main:
            by_name.setdefault(dependency.name, []).append(dependency)
        main = [_enriched(Dependency.from_pep508(text), by_name) for text in project.get("dependencies", [])]
        for extra, texts in _table(project, "optional-dependencies").items():
            extra_dependencies = [_enriched(Dependency.from_pep508(text, optional=True), by_name) for text in texts]
            for dependency in extra_dependencies:
                dependency.marker = conjunction(
                    dependency.marker, ("compare", ("variable", "extra"), "==", ("string", extra)))
            extras[canonical_name(extra)] = [dependency.name for dependency in extra_dependencies]
            main += extra_dependencies
        if "dependencies" in project.get("dynamic", []):
            known = {dependency.name for dependency in main}
            main += [dependency for dependency in poetry_main if dependency.name not in known]
        groups[MAIN_GROUP] = main
    if _table(poetry, "dev-dependencies"):
        groups[LEGACY_DEV_GROUP] = _poetry_table_dependencies(_table(poetry, "dev-dependencies"))
    for name in _table(pyproject, "dependency-groups"):
        groups.setdefault(name, []).extend(_pep735_group(_table(pyproject, "dependency-groups"), name))
    for name, group in _table(poetry, "group").items():
        groups.setdefault(name, []).extend(_poetry_table_dependencies(_table(group, "dependencies")))
        if isinstance(group, dict) and group.get("optional"):
            optional.add(name)
    return groups, optional, extras


def selected_groups(known, optional, only=None, with_groups=None, without_groups=None):
    """The groups Poetry's --only, --with and --without select; LockSelectionError for a group
    the project does not have (Poetry refuses them too)."""
    for option, names in (("only", only), ("with_groups", with_groups), ("without_groups", without_groups)):
        unknown = sorted(set(names or []) - set(known))
        if unknown:
            raise LockSelectionError("%s names groups the project does not have: %s (it has: %s)"
                                     % (option, ", ".join(unknown), ", ".join(sorted(known))))
    if only:
        return set(only)
    return (set(known) - set(optional) | set(with_groups or [])) - set(without_groups or [])


def _selected_extras(extras, names, all_extras):
    if all_extras:
        return set(extras)
    wanted = {canonical_name(name) for name in names or []}
    unknown = sorted(wanted - set(extras))
    if unknown:
        raise LockSelectionError("extras names extras the project does not have: %s (it has: %s)"
                                 % (", ".join(unknown), ", ".join(sorted(extras)) or "none"))
    return wanted


def _distribution(package):
    files = package.get("files")
    if files is None:
        files = []
    return {
        "name": package["name"],
        "version": package["version"],
        "hashes": sorted({entry["hash"].split(":", 1)[1] for entry in files
                          if str(entry.get("hash", "")).startswith("sha256:")}),
        "files": [{"file": entry.get("file"), "hash": entry.get("hash")} for entry in files],
    }


def _group_markers(package):
    """{group: marker} under which each of a lock 2.1 package's groups needs it."""
    markers = package.get("markers")
    if isinstance(markers, dict):
        return {group: parse_marker(markers[group]) if markers.get(group) else None for group in package["groups"]}
    marker = parse_marker(markers) if markers else None
    return {group: marker for group in package["groups"]}


def _select_by_lock_markers(packages, groups, extras, environment):
    return [package for package in packages
            if any(group in groups and _holds(marker, environment, extras)
                   for group, marker in _group_markers(package).items())]


def _pick(candidates, dependency):
    """The locked package for a dependency: the only one of its name, else the first whose
    version the dependency's constraint allows."""
    if len(candidates) == 1:
        return candidates[0]
    for package in candidates:
        if constraint_allows(dependency.constraint, package["version"]):
            return package
    return None


def _walk(packages, roots, environment):
    """The packages reached from `roots` (Poetry 1.8's resolution from the lock): {canonical
    name: package}."""
    by_name = {}
    for package in packages:
        by_name.setdefault(canonical_name(package["name"]), []).append(package)
    reached, asked = {}, {}
    queue = list(roots)
    while queue:
        dependency = queue.pop(0)
        package = _pick(by_name.get(dependency.name, []), dependency)
        if package is None:
            raise LockSelectionError("the lock has no package %s for %s%s: is it stale?" % (
                dependency.name, dependency.name, " " + dependency.constraint if dependency.constraint else ""))
        known = asked.get(dependency.name)
        if known is not None and dependency.extras <= known:
            continue
        asked[dependency.name] = extras = (known or set()) | dependency.extras
        reached[dependency.name] = package
        in_extras = {canonical_name(parse_requirement(text)["name"])
                     for extra, texts in package.get("extras", {}).items() if canonical_name(extra) in extras
                     for text in texts}
        for name, value in package.get("dependencies", {}).items():
            for child in poetry_dependencies(name, value):
                if (child.name in in_extras or not child.optional) and _holds(child.marker, environment, extras):
                    queue.append(child)
    return reached


def _reached_by_extras(packages, lock_extras, extras):
    """Names an extra asked for reaches through the lock's dependencies, whatever their markers
    (Poetry 1.8's get_extra_package_names)."""
    requires = {canonical_name(package["name"]): [canonical_name(name) for name in package.get("dependencies", {})]
                for package in packages}
    seen, stack = set(), [canonical_name(name) for extra in extras for name in lock_extras.get(extra, [])]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(requires.get(name, []))
    return seen


def _select_by_walk(packages, lock, groups, group_dependencies, extras, project_extras, environment):
    """Poetry 1.8 resolves the project's optional dependencies too, then skips what only they
    reach unless an extra asked for reaches it."""
    roots = [dependency for group in sorted(groups) for dependency in group_dependencies.get(group, [])
             if _holds(_without_extra(dependency.marker), environment)]
    required = _walk(packages, [dependency for dependency in roots if not dependency.optional], environment)
    reached = _walk(packages, roots, environment)
    lock_extras = {canonical_name(extra): names for extra, names in _table(lock, "extras").items()} or project_extras
    keep = _reached_by_extras(packages, lock_extras, extras)
    return [package for name, package in reached.items() if name in required or name in keep]


def _without_extra(marker):
    """The marker with every `extra` comparison taken as true (Poetry 1.8 resolves a
    project's optional dependencies whatever extras are asked for, and filters later)."""
    if marker is None or marker[0] == "python":
        return marker
    if marker[0] in ("and", "or"):
        left, right = _without_extra(marker[1]), _without_extra(marker[2])
        if marker[0] == "or" and (left is None or right is None):
            return None
        return conjunction(left, right) if marker[0] == "and" else (marker[0], left, right)
    return None if ("variable", "extra") in (marker[1], marker[3]) else marker


def select(pyproject, lock, selection, environment):
    """{canonical name: {"name", "version", "hashes", "files"}} of what Poetry installs from
    `lock` for `selection` (only, with_groups, without_groups, extras, all_extras) in a Python
    whose marker environment is `environment`; LockSelectionError when it cannot tell."""
    try:
        group_dependencies, optional, extras = project_groups(pyproject)
        groups = selected_groups(group_dependencies, optional, selection.get("only"),
                                 selection.get("with_groups"), selection.get("without_groups"))
        wanted_extras = _selected_extras(extras, selection.get("extras"), selection.get("all_extras"))
        packages = lock.get("package", [])
        if packages and all("groups" in package for package in packages):  # lock 2.1
            chosen = _select_by_lock_markers(packages, groups, wanted_extras, environment)
        else:
            chosen = _select_by_walk(packages, lock, groups, group_dependencies, wanted_extras, extras, environment)
    except (MarkerError, KeyError, TypeError, AttributeError) as error:
        raise LockSelectionError("cannot read the project or its lock: %s: %s" % (type(error).__name__, error))
    return dict(sorted((canonical_name(package["name"]), _distribution(package)) for package in chosen))
