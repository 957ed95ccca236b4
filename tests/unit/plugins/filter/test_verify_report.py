# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report of the lockstep.poetry.verify playbook, over answers of every kind."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.lockstep.poetry.plugins.filter.verify_report import verify_report

LOCK_A, LOCK_B = "a" * 64, "b" * 64


def matching(lock):
    return {"matches": True, "lock_sha256": lock, "python_version": "3.11.2", "missing": [], "extra": [],
            "wrong_version": [], "modified_files": []}


DIFFERS = dict(matching(LOCK_A), matches=False, python_version="3.13.5",
               missing=[{"name": "idna", "version": "3.10"}], extra=[{"name": "six", "version": "1.17.0"}],
               wrong_version=[{"name": "click", "locked": "8.1.8", "installed": "8.1.7"}],
               modified_files=[{"distribution": "humanize", "path": "humanize/time.py", "problem": "changed"}])


def test_every_kind_of_host():
    hostvars = {
        "web1": {"answer": matching(LOCK_A)}, "web2": {"answer": matching(LOCK_A)}, "web3": {"answer": matching(LOCK_B)},
        "web4": {"answer": DIFFERS}, "web5": {"answer": {"no_release": "/srv/shop/current"}},
        "web6": {"answer": {"failed": True, "msg": "cannot read /srv/shop/current/poetry.lock"}}, "web7": {},
    }
    report = verify_report(sorted(hostvars), hostvars, key="answer", name="shop")
    assert report["ok"] is False
    assert report["locks"] == {LOCK_A[:12]: 2, LOCK_B[:12]: 1}
    assert report["lines"] == [
        "shop on 7 hosts: 2 matching lock aaaaaaaaaaaa, 1 matching lock bbbbbbbbbbbb, 1 differ, "
        "1 without a current release, 1 failed, 1 unreachable",
        "web4 (lock aaaaaaaaaaaa, Python 3.13.5): missing idna 3.10; extra six 1.17.0; "
        "click 8.1.7 installed instead of 8.1.8; changed humanize/time.py (humanize)",
        "web5: no current release (/srv/shop/current)",
        "web6: the check failed: cannot read /srv/shop/current/poetry.lock",
        "web7: unreachable, or failed before the check",
    ]
    assert report["hosts"]["web7"] == "unreachable"


def test_all_match():
    report = verify_report(["web1", "web2"], {"web1": matching(LOCK_A), "web2": matching(LOCK_A)})
    assert report == {"lines": ["2 hosts: 2 matching lock aaaaaaaaaaaa"], "ok": True,
                      "locks": {LOCK_A[:12]: 2}, "hosts": {"web1": "matching", "web2": "matching"}}


def test_no_hosts_is_not_ok():
    assert verify_report([], {})["ok"] is False


def test_input_must_be_a_list():
    with pytest.raises(AnsibleFilterError, match="must be a list of hosts"):
        verify_report("web1", {})
