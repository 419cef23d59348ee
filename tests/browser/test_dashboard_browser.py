from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.analytics.dashboard_data import dashboard_data

PASSWORD = "dashboard-pass-1"
CHARTS = (
    "chart-batches",
    "chart-fill",
    "chart-orders",
    "chart-units",
    "chart-jobs",
    "chart-daily-orders",
    "chart-daily-revenue",
)


def test_an_ops_user_opens_the_dashboard_from_the_admin_and_every_chart_draws(chrome, live_server, olivia, tmp_path):
    # given
    olivia.set_password(PASSWORD)
    olivia.save()
    dashboard_data()
    wait = WebDriverWait(chrome, 20)

    # when: she logs into the admin and follows the dashboard link
    chrome.get(f"{live_server.url}/admin/login/?next=/admin/")
    chrome.find_element(By.NAME, "username").send_keys("olivia")
    chrome.find_element(By.NAME, "password").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait.until(lambda driver: driver.find_elements(By.LINK_TEXT, "Operations dashboard"))
    chrome.find_element(By.LINK_TEXT, "Operations dashboard").click()
    wait.until(lambda driver: driver.find_element(By.ID, "dashboard").get_attribute("data-refreshes") == "1")
    chrome.save_screenshot(str(tmp_path / "dashboard.png"))

    # then: every chart drew bars from data, and the figures and failures are filled in
    for chart in CHARTS:
        svg = chrome.find_element(By.ID, chart)
        assert svg.get_attribute("data-drawn") == "1", chart
        assert int(svg.get_attribute("data-points")) > 0, chart
        assert svg.find_elements(By.CSS_SELECTOR, "rect.bar"), chart
    assert chrome.find_element(By.ID, "chart-jobs").find_elements(By.CSS_SELECTOR, "polyline.line")
    assert chrome.find_element(By.ID, "fig-review-length").text == "1"
    assert chrome.find_element(By.ID, "fig-open-batches").text == "4"
    assert "OperationalError" in chrome.find_element(By.ID, "failures").text
    assert chrome.find_element(By.ID, "dash-error").text == ""
