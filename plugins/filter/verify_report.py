# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: verify_report
short_description: Sum up lockstep.poetry.verify across hosts
version_added: 0.1.0
description:
  - Turns the answers of M(lockstep.poetry.verify) on many hosts into one report - how many
    hosts match which lock, and for each host that does not, what differs - as the
    C(lockstep.poetry.verify) playbook prints it.
  - A host is counted as V(matching) when its answer says so, as V(no_release) when the answer is
    C({no_release - PATH}), as V(failed) when the module failed, and as V(unreachable) when it
    has no answer at all (unreachable, or failed before the check).
options:
  _input:
    description: The hosts to report on (C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  answers:
    description: Each host's answer, as C({host - answer}); hosts without one are left out or
      given V(null). C(hostvars) works, with O(key).
    type: dict
    required: true
  key:
    description: The name of the answer among each host's variables, when O(answers) is C(hostvars).
    type: str
  name:
    description: What was verified, for the first line (the application's name).
    type: str
    default: ""
author:
  - lockstep.poetry maintainers (@lockstep)
"""

EXAMPLES = r"""
- name: Sum up
  ansible.builtin.debug:
    msg: "{{ report.lines }}"
  vars:
    report: "{{ ansible_play_hosts_all | lockstep.poetry.verify_report(hostvars, key='app_verify', name='shop') }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: The report.
  type: dict
  contains:
    lines:
      description: The report in lines - the counts first, then one line for each host that
        does not match.
      type: list
      elements: str
    ok:
      description: Whether every host matches its lock.
      type: bool
    locks:
      description: How many hosts match, by lock (the first 12 hexadecimal digits of its sha256).
      type: dict
    hosts:
      description: Each host's state (V(matching), V(differs), V(no_release), V(failed),
        V(unreachable)).
      type: dict
"""

from ansible.errors import AnsibleFilterError


def _differences(answer):
    parts = ["missing %s %s" % (entry["name"], entry["version"]) for entry in answer.get("missing", [])]
    parts += ["extra %s %s" % (entry["name"], entry["version"]) for entry in answer.get("extra", [])]
    parts += ["%s %s installed instead of %s" % (entry["name"], entry["installed"], entry["locked"])
              for entry in answer.get("wrong_version", [])]
    parts += ["%s %s (%s)" % (entry["problem"], entry["path"], entry["distribution"])
              for entry in answer.get("modified_files", [])]
    return "; ".join(parts)


def _state(answer):
    if not isinstance(answer, dict) or answer.get("skipped"):
        return "unreachable"
    if "no_release" in answer:
        return "no_release"
    if answer.get("failed") or "matches" not in answer:
        return "failed"
    return "matching" if answer["matches"] else "differs"


def _answer(answers, key, host):
    answer = answers.get(host) if hasattr(answers, "get") else None
    if key:
        answer = answer.get(key) if hasattr(answer, "get") else None
    return answer


def verify_report(hosts, answers, key=None, name=""):
    """The report of verify's answers on `hosts` (see DOCUMENTATION)."""
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("verify_report: the input must be a list of hosts, not %s" % type(hosts).__name__)
    states, locks, details = {}, {}, []
    for host in hosts:
        answer = _answer(answers, key, host)
        states[host] = state = _state(answer)
        if state == "matching":
            lock = answer["lock_sha256"][:12]
            locks[lock] = locks.get(lock, 0) + 1
        elif state == "differs":
            details.append("%s (lock %s, Python %s): %s" % (
                host, answer["lock_sha256"][:12], answer.get("python_version"), _differences(answer)))
        elif state == "no_release":
            details.append("%s: no current release (%s)" % (host, answer["no_release"]))
        elif state == "failed":
            details.append("%s: the check failed: %s" % (host, answer.get("msg", "no message")))
        else:
            details.append("%s: unreachable, or failed before the check" % host)
    counts = [
        "%d matching lock %s" % (count, lock) for lock, count in sorted(locks.items())
    ] + ["%d %s" % (sum(1 for state in states.values() if state == wanted), label) for wanted, label in (
        ("differs", "differ"), ("no_release", "without a current release"), ("failed", "failed"),
        ("unreachable", "unreachable"))
        if any(state == wanted for state in states.values())]
    first = "%s%d hosts: %s" % (name + " on " if name else "", len(hosts), ", ".join(counts) or "none")
    return {"lines": [first] + details, "ok": bool(hosts) and all(state == "matching" for state in states.values()),
            "locks": locks, "hosts": states}


class FilterModule:
    def filters(self):
        return {"verify_report": verify_report}
