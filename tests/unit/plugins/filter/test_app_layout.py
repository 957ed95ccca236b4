# Copyright: lockstep.poetry contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app_layout filter: the role's own layout, for an absolute root only."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.lockstep.poetry.plugins.filter.app_layout import app_layout


@pytest.mark.parametrize("root, current_venv", [
    ("/srv/shop", "/srv/shop/current/.venv"),
    ("/srv/shop/", "/srv/shop/current/.venv"),
    ("/", "/current/.venv"),
])
def test_paths(root, current_venv):
    layout = app_layout(root)
    assert layout["current_venv"] == current_venv
    assert layout["current"] == current_venv.rsplit("/", 1)[0]


@pytest.mark.parametrize("root", ["srv/shop", "", None, 42, ["/srv/shop"]])
def test_not_an_absolute_path(root):
    with pytest.raises(AnsibleFilterError, match="absolute path"):
        app_layout(root)
