from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from batches.models import BatchEvent, ProductionBatch
from suppliers.models import SupplierOrder
from tests.batches.factories import batch_in_review
from tests.factories import SupplierFactory, UserFactory
from tests.foundation.test_ops_admin import OPS_LISTS

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

    # ... chooses to approve the batch, and is shown what that will do
    row_checkbox.click()
    Select(chrome.find_element(By.NAME, "action")).select_by_value("approve")
    chrome.find_element(By.CSS_SELECTOR, "button[name=index]").click()
    preview = wait.until(expected_conditions.visibility_of_element_located((By.ID, "decision-preview"))).text
    chrome.save_screenshot(str(tmp_path / "review-queue-confirm-approve.png"))
    batch.refresh_from_db()
    assert batch.batch_status == ProductionBatch.Status.ADMIN_REVIEW  # nothing happens before she confirms

    # ... and confirms
    chrome.find_element(By.CSS_SELECTOR, "input[name=confirm]").click()
    success = wait.until(
        expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, "ul.messagelist li.success"))
    )
    chrome.save_screenshot(str(tmp_path / "review-queue-approved.png"))

    # then: the queue showed what she needed to decide
    assert "62.00%" in page
    assert "62 / 100" in page
    assert batch.supplier.name in page
    assert str(batch.id)[:8] in page
    # ... the confirmation page showed the supplier order to place and its total (62 × 10.00)
    assert batch.supplier.name in preview
    assert "62 units × 10.00" in preview
    assert "620.00" in preview
    # ... the approval went through the state machine, in her name, and names the supplier order
    batch.refresh_from_db()
    assert batch.batch_status == ProductionBatch.Status.CONFIRMED
    placed = SupplierOrder.objects.get(batch=batch)
    assert f"supplier order {placed.order_number} placed" in success.text
    event = BatchEvent.objects.get(batch=batch)
    assert (event.kind, event.actor) == (BatchEvent.Kind.CONFIRMED, olivia)
    # ... and the batch left the queue
    assert not chrome.find_elements(By.CSS_SELECTOR, f"input[name=_selected_action][value='{batch.id}']")


def test_ops_open_every_admin_list_their_role_needs(chrome, live_server, olivia, tmp_path):
    # given
    olivia.set_password(PASSWORD)
    olivia.save()
    # Factory names ("Supplier N", "userN") grow with the tests run before this one, and the
    # lists' widths with them: start the sequences afresh so the layout checked is the same in
    # any run.
    UserFactory.reset_sequence(1)
    SupplierFactory.reset_sequence(1)
    batch_in_review(55, target=100, orders=2, offer__supplier__name="Dhaka Knits")
    wait = WebDriverWait(chrome, 20)
    chrome.get(f"{live_server.url}/admin/login/?next=/admin/")
    chrome.find_element(By.NAME, "username").send_keys("olivia")
    chrome.find_element(By.NAME, "password").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait.until(expected_conditions.visibility_of_element_located((By.ID, "content-main")))
    chrome.save_screenshot(str(tmp_path / "admin-index.png"))

    for url in OPS_LISTS:
        # when
        chrome.get(f"{live_server.url}{url}")
        wait.until(expected_conditions.visibility_of_element_located((By.ID, "content")))
        name = url.strip("/").replace("/", "-")
        chrome.save_screenshot(str(tmp_path / f"{name}.png"))

        # then: the list, not a 403, and nothing wider than the window
        assert chrome.find_elements(By.ID, "changelist"), f"{url}: {chrome.find_element(By.TAG_NAME, 'body').text}"
        overflow = chrome.execute_script(
            "const boxes = [document.documentElement, ...document.querySelectorAll('#changelist .results')];"
            "return boxes.filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.className || b.tagName);"
        )
        assert not overflow, f"{url} scrolls sideways: {overflow}"
