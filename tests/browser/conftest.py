import os
import shutil
import tempfile

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" not in str(item.fspath):
            continue
        item.add_marker(pytest.mark.browser)
        if not (CHROMIUM and CHROMEDRIVER) and os.environ.get("SLEEKBATCH_REQUIRE_SERVICES") != "1":
            item.add_marker(
                pytest.mark.skip(
                    reason="browser tests need chromium and chromedriver (apt-get install chromium-driver)"
                )
            )


@pytest.fixture
def chrome(tmp_path):
    """A headless Chromium driven by Selenium, with a profile of its own; quit after the test."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("SLEEKBATCH_REQUIRE_SERVICES=1 but chromium/chromedriver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,900",
        f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-', dir=tmp_path)}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()
