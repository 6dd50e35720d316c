"""The check registries: names in step with the classes, and classes imported only when looked up."""

from __future__ import annotations

import subprocess
import sys

from checks import PAGE_CHECK_GROUPS, PAGE_CHECKS, SITE_CHECKS, PageCheck, SiteCheck
from monitor.core.duties import PAGE_CHECK_GROUPS as DUTY_GROUPS
from monitor.core.duties import PAGE_CHECK_NAMES, SITE_CHECK_NAMES
from tests.conftest import REPO


def test_every_registered_name_is_its_class_name() -> None:
    for name in PAGE_CHECKS:
        assert PAGE_CHECKS[name].name == name
        assert issubclass(PAGE_CHECKS[name], PageCheck)
    for name in SITE_CHECKS:
        assert SITE_CHECKS[name].name == name
        assert issubclass(SITE_CHECKS[name], SiteCheck)
    for members in PAGE_CHECK_GROUPS.values():
        assert all(m in PAGE_CHECKS for m in members)
    assert "nonsense" not in PAGE_CHECKS and len(SITE_CHECKS) == 5
    # The duty names the config validates against (monitor.core.duties) are exactly the registered checks.
    assert tuple(PAGE_CHECKS) == PAGE_CHECK_NAMES and tuple(SITE_CHECKS) == SITE_CHECK_NAMES
    assert PAGE_CHECK_GROUPS == DUTY_GROUPS


def test_running_the_links_duty_imports_no_site_check() -> None:
    # A fresh interpreter: what the CLI loads for `monitor run links` (and an analysis worker for text).
    code = (
        "import sys; import monitor.app.cli; from checks import PAGE_CHECKS; PAGE_CHECKS['links'];"
        "import checks.text.check;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'checks'))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    loaded = out.stdout
    assert "checks.links.check" in loaded and "checks.text.check" in loaded
    heavy_modules = (
        "checks.availability.check",
        "checks.columns.check",
        "checks.newmedia.check",
        "checks.identity.check",
    )
    for heavy in heavy_modules:
        assert f"'{heavy}'" not in loaded, loaded
