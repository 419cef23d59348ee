from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from batches.models import BatchEvent, ProductionBatch
from suppliers.models import SupplierOrder
from tests.batches.factories import batch_in_review

PASSWORD = "review-queue-pass-1"


def test_an_ops_user_approves_a_batch_from_the_review_queue(chrome, live_server, olivia, tmp_path):
    # given
    olivia.set_password(PASSWORD)
    olivia.save()
    batch = batch_in_review(62, target=100, orders=3)
    wait = WebDriverWait(chrome, 20)

    # when: she logs into the admin and opens the review queue
    chrome.get(f"{live_server.url}/admin/login/?next=/admin/batches/batchinreview/")
    chrome.find_element(By.NAME, "username").send_keys("olivia")
    chrome.find_element(By.NAME, "password").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    row_checkbox = wait.until(
        expected_conditions.element_to_be_clickable(
            (By.CSS_SELECTOR, f"input[name=_selected_action][value='{batch.id}']")
        )
    )
    page = chrome.find_element(By.ID, "result_list").text
    chrome.save_screenshot(str(tmp_path / "review-queue.png"))

    # ... and approves the batch
    row_checkbox.click()
    Select(chrome.find_element(By.NAME, "action")).select_by_value("approve")
    chrome.find_element(By.CSS_SELECTOR, "button[name=index]").click()
    success = wait.until(
        expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, "ul.messagelist li.success"))
    )
    chrome.save_screenshot(str(tmp_path / "review-queue-approved.png"))

    # then: the queue showed what she needed to decide
    assert "62.00%" in page
    assert "62 / 100" in page
    assert batch.supplier.name in page
    assert str(batch.id)[:8] in page
    # ... the approval went through the state machine, in her name
    assert "Approved, supplier order placed" in success.text
    batch.refresh_from_db()
    assert batch.batch_status == ProductionBatch.Status.CONFIRMED
    assert SupplierOrder.objects.filter(batch=batch).count() == 1
    event = BatchEvent.objects.get(batch=batch)
    assert (event.kind, event.actor) == (BatchEvent.Kind.CONFIRMED, olivia)
    # ... and the batch left the queue
    assert not chrome.find_elements(By.CSS_SELECTOR, f"input[name=_selected_action][value='{batch.id}']")
