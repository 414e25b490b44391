"""The review page in a real browser: headless Chromium driven by Selenium.

Run through Tests/browser/run.sh, which starts a throwaway cluster and
`tierplan serve`, then sets:

  TIERPLAN_URL        base URL of the running server (http://127.0.0.1:PORT)
  TIERPLAN_USER       a reviewer's name
  TIERPLAN_PASSWORD   that reviewer's password
  TIERPLAN_ADMIN      an admin's name (the what-if page needs the role)
  TIERPLAN_ADMIN_PASSWORD  that admin's password
  SCREENSHOT_DIR      where the screenshots go (default .build/screenshots)
  CHROMIUM, CHROMEDRIVER  the browser and driver (default /usr/bin/...)
  CHROMEDRIVER_LOG    the driver's log (default .build/browser/chromedriver.log)

The tests run in file order against one signed-in browser: sign in, approve
an offer and see it leave the queue, reject one without a reason and see the
error, open the forecast and find its chart. The pricing what-if tests use a
second browser signed in as the admin: upload a catalog and see the comparison,
paste a refused one and see where it is wrong, and find the page closed to the
reviewer and missing from the reviewer's navigation.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE_URL = os.environ.get("TIERPLAN_URL", "http://127.0.0.1:8080").rstrip("/")
USER = os.environ.get("TIERPLAN_USER", "rita")
PASSWORD = os.environ.get("TIERPLAN_PASSWORD", "browser-pass-1")
ADMIN_USER = os.environ.get("TIERPLAN_ADMIN", "alma")
ADMIN_PASSWORD = os.environ.get("TIERPLAN_ADMIN_PASSWORD", "browser-admin-1")
EXAMPLE_CATALOG = Path(__file__).resolve().parents[2] / "examples" / "catalog.yaml"
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ".build/screenshots"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT = 15  # seconds for a page to arrive
TODAY = os.environ.get("TIERPLAN_NOW", "2026-11-03")[:10]  # the day the server dates decisions (run.sh sets its clock)


def new_driver():
    options = Options()
    # The Debian browser, never one Selenium Manager would fetch.
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1280,900", "--lang=en-US", "--hide-scrollbars"):
        options.add_argument(arg)
    # An explicit driver path: Selenium skips Selenium Manager (no download).
    log = Path(os.environ.get("CHROMEDRIVER_LOG", SCREENSHOTS.parent / "browser" / "chromedriver.log"))
    log.parent.mkdir(parents=True, exist_ok=True)
    service = Service(executable_path=CHROMEDRIVER, log_output=str(log))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture(scope="module")
def browser():
    driver = new_driver()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def admin():
    """A second browser, signed in as the admin (the reviewer's session stays as it is)."""
    driver = new_driver()
    try:
        sign_in(driver, user=ADMIN_USER, password=ADMIN_PASSWORD)
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def signed_in(browser):
    """The browser after signing in (done once; the first test checks it)."""
    if not getattr(browser, "_tierplan_signed_in", False):
        sign_in(browser)
    return browser


def sign_in(driver, screenshot=None, user=USER, password=PASSWORD):
    driver.get(BASE_URL + "/login")
    wait(driver).until(EC.presence_of_element_located((By.ID, "sign-in")))
    driver.find_element(By.ID, "name").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    if screenshot:
        shoot(driver, screenshot)
    driver.find_element(By.ID, "sign-in").click()
    wait(driver).until(lambda d: urlparse(d.current_url).path == "/queue")
    wait(driver).until(EC.presence_of_element_located((By.ID, "queue")))
    driver._tierplan_signed_in = True


def wait(driver, seconds=WAIT):
    return WebDriverWait(driver, seconds)


def shoot(driver, name):
    """A screenshot of the whole page (the window grows to the page's height)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page, viewport = driver.execute_script(
        "return [Math.max(document.body.scrollHeight, document.documentElement.scrollHeight),"
        " window.innerHeight]")
    window = driver.get_window_size()["height"]
    # The window's height includes the (headless) browser's frame.
    driver.set_window_size(1280, min(int(page) + (window - int(viewport)), 5000))
    path = SCREENSHOTS / name
    assert driver.save_screenshot(str(path)), f"could not save {path}"
    driver.set_window_size(1280, 900)
    return path


def response_status(driver):
    """The HTTP status of the page now shown (Navigation Timing), or None."""
    status = driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "return n && n.responseStatus ? n.responseStatus : null;")
    return status


def queue_ids(driver):
    return [row.get_attribute("data-id")
            for row in driver.find_elements(By.CSS_SELECTOR, "#queue tr.offer[data-id]")]


def proposed_count(driver):
    """The 'N proposed offer(s)' count the queue page states."""
    match = re.search(r"(\d+) proposed offer", driver.find_element(By.TAG_NAME, "main").text)
    assert match, "the queue page does not say how many offers are proposed"
    return int(match.group(1))


def open_offer(driver, offer_id):
    """Follows the queue row's Review link to the offer page."""
    driver.get(BASE_URL + "/queue")
    link = wait(driver).until(EC.element_to_be_clickable(
        (By.CSS_SELECTOR, f'#queue tr.offer[data-id="{offer_id}"] a.open')))
    assert urlparse(link.get_attribute("href")).path == f"/offers/{offer_id}"
    link.click()
    wait(driver).until(lambda d: urlparse(d.current_url).path == f"/offers/{offer_id}")
    wait(driver).until(EC.presence_of_element_located((By.ID, "status")))


def test_sign_in_lands_on_the_queue(browser):
    sign_in(browser, screenshot="01-login.png")
    assert urlparse(browser.current_url).path == "/queue"
    assert USER in browser.find_element(By.CSS_SELECTOR, "header .who").text
    ids = queue_ids(browser)
    assert len(ids) >= 2, f"expected the nightly run's proposed offers in the queue, got {ids}"
    assert proposed_count(browser) == len(ids)
    for row in browser.find_elements(By.CSS_SELECTOR, "#queue tr.offer"):
        assert row.find_element(By.CSS_SELECTOR, "a.open").is_displayed()
    shoot(browser, "02-queue.png")


def test_approve_takes_the_offer_out_of_the_queue(signed_in):
    driver = signed_in
    driver.get(BASE_URL + "/queue")
    before = queue_ids(driver)
    count_before = proposed_count(driver)
    offer_id = before[0]

    open_offer(driver, offer_id)
    assert driver.find_element(By.ID, "status").text == "proposed"
    assert driver.find_element(By.ID, "rationale").text.strip(), "the offer has no rationale"
    decide = driver.find_element(By.ID, "decide")
    for button in ("approve", "reject", "snooze"):
        assert decide.find_element(By.ID, button).is_displayed()
    assert not driver.find_elements(By.ID, "error")
    shoot(driver, "03-offer.png")

    decide.find_element(By.ID, "approve").click()
    wait(driver).until(lambda d: urlparse(d.current_url).path == "/queue")
    notice = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "main .notice")))
    assert "approved" in notice.text, notice.text
    after = queue_ids(driver)
    assert offer_id not in after, "the approved offer is still in the queue"
    assert sorted(after) == sorted(i for i in before if i != offer_id)
    assert proposed_count(driver) == count_before - 1
    shoot(driver, "04-after-approve.png")

    # The offer page now says approved and offers no decision.
    driver.get(f"{BASE_URL}/offers/{offer_id}")
    assert wait(driver).until(EC.presence_of_element_located((By.ID, "status"))).text == "approved"
    assert not driver.find_elements(By.ID, "decide")


def test_reject_without_a_reason_shows_the_error(signed_in):
    driver = signed_in
    driver.get(BASE_URL + "/queue")
    before = queue_ids(driver)
    assert before, "no proposed offer left to reject"
    offer_id = before[0]

    open_offer(driver, offer_id)
    reason = driver.find_element(By.ID, "reject-reason")
    reason.clear()
    driver.find_element(By.ID, "reject").click()
    error = wait(driver).until(EC.visibility_of_element_located((By.ID, "error")))
    assert error.text.strip() == "A rejection needs a reason."
    assert urlparse(driver.current_url).path == f"/offers/{offer_id}/reject"
    status = response_status(driver)
    assert status == 422, f"the refusal came with HTTP {status}, not 422"
    # Nothing was decided: still proposed, the decision box still there.
    assert driver.find_element(By.ID, "status").text == "proposed"
    assert driver.find_element(By.ID, "decide").is_displayed()
    shoot(driver, "05-reject-error.png")

    driver.get(BASE_URL + "/queue")
    wait(driver).until(EC.presence_of_element_located((By.ID, "queue")))
    assert offer_id in queue_ids(driver), "the offer left the queue though the rejection was refused"


def test_forecast_page_shows_the_chart(signed_in):
    driver = signed_in
    driver.get(BASE_URL + "/forecast?as_of=2026-11-01&months=6")
    figure = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "figure#forecast-chart")))
    svg = figure.find_element(By.TAG_NAME, "svg")
    assert svg.size["width"] > 200 and svg.size["height"] > 50, f"the chart is drawn at {svg.size}"
    months = driver.find_elements(By.CSS_SELECTOR, "table#forecast-table tr td:first-child")
    assert len(months) == 6, f"expected 6 forecast months, got {len(months)}"
    assert months[0].text.startswith("2026-"), months[0].text

    view_box = driver.execute_script("return arguments[0].getAttribute('viewBox')", svg)
    _, _, view_width, view_height = (float(v) for v in view_box.split())
    for selector in ("polyline#baseline", "polyline#expected", "polygon#band"):
        shape = svg.find_element(By.CSS_SELECTOR, selector)
        points = shape.get_attribute("points").split()
        want = 12 if selector == "polygon#band" else 6  # P90 there, P10 back
        assert len(points) == want, f"{selector} has {len(points)} points, expected {want}"
        for point in points:
            x, y = (float(v) for v in point.split(","))
            assert 0 <= x <= view_width and 0 <= y <= view_height, f"{selector} point {point} outside the chart"
    assert svg.find_element(By.CSS_SELECTOR, "polyline#expected").is_displayed()
    shoot(driver, "06-forecast.png")

    # What the history says (movements by month) and how far to trust it (the backtest), on the same page.
    movements = driver.find_element(By.CSS_SELECTOR, "figure#history-chart svg#movements-chart")
    assert movements.size["width"] > 200, f"the movements chart is drawn at {movements.size}"
    history_months = driver.find_elements(By.CSS_SELECTOR, "table#history-table tr td:first-child")
    assert len(history_months) == 6, f"expected 6 lookback months, got {len(history_months)}"
    backtest = driver.find_element(By.CSS_SELECTOR, "figure#backtest-chart svg#backtest-chart")
    for selector in ("polyline#actual", "polyline#history", "polyline#flat"):
        assert backtest.find_element(By.CSS_SELECTOR, selector).is_displayed(), selector
    rows = driver.find_elements(By.CSS_SELECTOR, "table#backtest-table tr td:first-child")
    assert {r.text for r in rows} == {"history", "flat"}, [r.text for r in rows]
    driver.execute_script("document.getElementById('backtest-chart').scrollIntoView()")
    shoot(driver, "07-backtest.png")


def test_decline_is_recorded_with_the_customers_reason(signed_in):
    driver = signed_in
    driver.get(BASE_URL + "/queue")
    offer_id = queue_ids(driver)[0]
    open_offer(driver, offer_id)
    driver.find_element(By.ID, "approve").click()
    wait(driver).until(lambda d: urlparse(d.current_url).path == "/queue")

    # The approved offer asks what the customer did; a decline needs a reason from the list.
    driver.get(f"{BASE_URL}/offers/{offer_id}")
    outcome = wait(driver).until(EC.visibility_of_element_located((By.ID, "outcome")))
    select = Select(outcome.find_element(By.ID, "reason-code"))
    codes = [o.get_attribute("value") for o in select.options]
    assert codes == ["", "price", "budget", "timing", "no_need", "competitor", "other"], codes
    # Without a choice the browser keeps the form (the select is required; the server refuses it too).
    outcome.find_element(By.ID, "declined").click()
    assert urlparse(driver.current_url).path == f"/offers/{offer_id}"
    assert driver.find_element(By.ID, "status").text == "approved"
    select.select_by_value("price")
    outcome.find_element(By.ID, "decline-note").send_keys("over their budget for the year")
    shoot(driver, "08-decline.png")
    outcome.find_element(By.ID, "declined").click()
    notice = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "main .notice")))
    assert "declined" in notice.text, notice.text

    driver.get(f"{BASE_URL}/offers/{offer_id}")
    assert wait(driver).until(EC.presence_of_element_located((By.ID, "status"))).text == "declined"
    assert "Price too high (price): over their budget for the year" in driver.find_element(By.TAG_NAME, "main").text

    # The finance page counts it under its code and draws the reliability chart with its diagonal.
    driver.get(BASE_URL + "/finance?as_of=" + TODAY)  # the server's TIERPLAN_NOW (run.sh)
    declines = wait(driver).until(EC.visibility_of_element_located((By.ID, "declines")))
    price = [r.text for r in declines.find_elements(By.CSS_SELECTOR, "tr") if "(price)" in r.text]
    assert price and " 1 " in f" {price[0]} ", price
    chart = driver.find_element(By.CSS_SELECTOR, "#calibration svg#reliability-chart")
    assert chart.size["width"] > 150, f"the reliability chart is drawn at {chart.size}"
    assert chart.find_element(By.CSS_SELECTOR, "line#diagonal")
    assert len(chart.find_elements(By.CSS_SELECTOR, "circle.bin")) >= 1
    rows = driver.find_elements(By.CSS_SELECTOR, "#calibration table tr")
    assert len(rows) == 11, f"expected a header and ten bins, got {len(rows)}"
    driver.execute_script("document.getElementById('calibration').scrollIntoView()")
    shoot(driver, "09-calibration.png")


def open_whatif(driver):
    driver.get(BASE_URL + "/whatif")
    return wait(driver).until(EC.visibility_of_element_located((By.ID, "whatif-form")))


def example_catalog(old, new):
    """The example catalog with one (unique) piece of text replaced."""
    text = EXAMPLE_CATALOG.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {EXAMPLE_CATALOG}"
    return text.replace(old, new)


def form_text(driver):
    """What the what-if form's textarea holds."""
    return driver.find_element(By.CSS_SELECTOR, "#whatif-form textarea[name=catalog]").get_attribute("value")


def nav_links(driver):
    """The navigation bar's links: path → text."""
    return {urlparse(a.get_attribute("href")).path: a.text for a in driver.find_elements(By.CSS_SELECTOR, "header a")}


def test_whatif_compares_an_uploaded_catalog(admin, tmp_path):
    driver = admin
    upload = tmp_path / "catalog-team-89.yaml"
    upload.write_text(example_catalog("price_monthly: 7900", "price_monthly: 8900"))  # Team: $79 → $89

    form = open_whatif(driver)
    assert response_status(driver) == 200
    assert not driver.find_elements(By.ID, "whatif-summary")
    form.find_element(By.CSS_SELECTOR, 'input[type=file][name=file]').send_keys(str(upload))
    Select(form.find_element(By.CSS_SELECTOR, "select[name=existing]")).select_by_value("reprice")
    form.find_element(By.XPATH, ".//button[normalize-space()='Compare']").click()

    summary = wait(driver).until(EC.visibility_of_element_located((By.ID, "whatif-summary")))
    assert urlparse(driver.current_url).path == "/whatif"
    assert response_status(driver) == 200
    assert not driver.find_elements(By.ID, "whatif-error")
    assert "uploaded catalog" in summary.text, summary.text
    assert "against the loaded catalog" in summary.text, summary.text

    chart = driver.find_element(By.CSS_SELECTOR, "#whatif-chart-figure svg#whatif-chart")
    assert chart.size["width"] > 200 and chart.size["height"] > 30, f"the chart is drawn at {chart.size}"
    bars = chart.find_elements(By.TAG_NAME, "rect")
    assert len(bars) > 2, f"the chart has {len(bars)} rects: the legend's two and no bar"  # 2 legend + 2 per bar
    assert len(chart.find_elements(By.TAG_NAME, "text")) > 2

    rows = driver.find_elements(By.CSS_SELECTOR, "#whatif-table tr")
    labels = [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows if r.find_elements(By.TAG_NAME, "td")]
    mrr = [r for r in rows if r.find_elements(By.TAG_NAME, "td") and r.find_element(By.TAG_NAME, "td").text.startswith("MRR on")]
    assert mrr, f"no 'MRR on …' row in the what-if table: {labels}"
    cells = mrr[0].find_elements(By.TAG_NAME, "td")
    assert len(cells) == 4 and cells[1].text.strip() and cells[2].text.strip(), [c.text for c in cells]
    # Repriced, the paying Team accounts pay $10 more less their discounts: globex (10 % off) $9.00,
    # hooli $10.00, vandelay (5 % off) $9.50.
    assert cells[3].text.strip() == "+$28.50", [c.text for c in cells]
    assert driver.find_element(By.ID, "whatif-changes")
    # The form comes back holding what was compared.
    assert "price_monthly: 8900" in form_text(driver)
    shoot(driver, "10-whatif.png")


def test_whatif_refuses_a_pasted_catalog_with_a_negative_price(admin):
    driver = admin
    pasted = example_catalog("price_monthly: 2900", "price_monthly: -1")  # Starter, line 9
    form = open_whatif(driver)
    textarea = form.find_element(By.CSS_SELECTOR, "textarea[name=catalog]")
    textarea.clear()
    textarea.send_keys(pasted)
    assert form_text(driver) == pasted
    form.find_element(By.XPATH, ".//button[normalize-space()='Compare']").click()

    error = wait(driver).until(EC.visibility_of_element_located((By.ID, "whatif-error")))
    assert "pasted catalog:9:" in error.text, error.text
    assert "price_monthly" in error.text, error.text
    status = response_status(driver)
    assert status == 422, f"the refusal came with HTTP {status}, not 422"
    assert not driver.find_elements(By.ID, "whatif-summary")
    assert form_text(driver).replace("\r\n", "\n") == pasted, "the pasted catalog did not come back in the form"
    shoot(driver, "11-whatif-error.png")


def test_whatif_is_for_admins_only(signed_in, admin):
    driver = signed_in  # the reviewer
    driver.get(BASE_URL + "/queue")
    wait(driver).until(EC.presence_of_element_located((By.ID, "queue")))
    links = nav_links(driver)
    assert "/queue" in links, links
    assert "/whatif" not in links and "What-if" not in links.values(), f"the reviewer's navigation offers the what-if: {links}"

    driver.get(BASE_URL + "/whatif")
    heading = wait(driver).until(EC.visibility_of_element_located((By.TAG_NAME, "h1")))
    status = response_status(driver)
    assert status == 403, f"the reviewer got the what-if page with HTTP {status}, not 403"
    assert heading.text == "Not allowed", heading.text
    assert "This needs the admin role." in driver.find_element(By.CSS_SELECTOR, "main .error").text
    assert not driver.find_elements(By.ID, "whatif-form")
    assert "/whatif" not in nav_links(driver)
    shoot(driver, "12-whatif-forbidden.png")

    admin.get(BASE_URL + "/queue")
    wait(admin).until(EC.presence_of_element_located((By.ID, "queue")))
    assert ADMIN_USER in admin.find_element(By.CSS_SELECTOR, "header .who").text
    assert nav_links(admin).get("/whatif") == "What-if", nav_links(admin)
