"""A team's web app in a real headless browser (Debian's chromium, as tests/test_serve_browser.py):
each user logs in on the /login form, sees only their folder's files in the documents view, and
asks a question through the page (its POST carries the session's CSRF token from the cookie)."""

from __future__ import annotations

import pytest

from test_serve_browser import CHROMIUM, DRIVER, browser  # noqa: F401 (the browser fixture)
from test_serve_team import DEPLOY, ENG_CODE, HR_CODE, PASSWORDS, PAYROLL, folders, team  # noqa: F401

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and DRIVER),
        reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
    ),
]


@pytest.mark.parametrize(
    "user, own_files, own_code, other_code, question",
    [
        ("alice", {"hr/payroll.txt", "hr/hr_lease.pdf"}, HR_CODE, ENG_CODE, PAYROLL),
        ("bob", {"deploy.txt", "okapi_lease.pdf"}, ENG_CODE, HR_CODE, DEPLOY),
    ],
)
def test_each_user_logs_in_and_sees_only_their_documents(team, browser, user, own_files, own_code, other_code, question):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 120)
    browser.get(team["url"] + "/")
    wait.until(lambda d: "/login" in d.current_url)
    browser.find_element(By.ID, "user").send_keys(user)
    browser.find_element(By.ID, "password").send_keys(PASSWORDS[user])
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: d.current_url.rstrip("/") == team["url"])
    wait.until(lambda d: f"logged in as {user}" in d.find_element(By.ID, "status").text)

    browser.find_element(By.ID, "tab-docs").click()
    rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#docs-table tbody tr"))
    shown = {r.find_elements(By.TAG_NAME, "td")[0].text for r in rows}
    assert shown == own_files

    browser.find_element(By.ID, "tab-ask").click()
    browser.find_element(By.ID, "question").send_keys(question)
    browser.find_element(By.ID, "ask-button").click()
    answer = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-role=answer]"))
    wait.until(lambda d: own_code in answer.text)
    assert other_code not in browser.page_source
    browser.delete_all_cookies()
