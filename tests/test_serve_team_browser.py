"""A team's web app in a real headless browser (Debian's chromium, as tests/test_serve_browser.py):
each user logs in on the /login form, sees only their folder's files in the documents view, and
asks a question through the page (its POST carries the session's CSRF token from the cookie)."""

from __future__ import annotations

import pytest

import test_serve_browser
import test_serve_team
from test_serve_browser import CHROMIUM, DRIVER
from test_serve_team import DEPLOY, ENG_CODE, HR_CODE, PASSWORDS, PAYROLL

# The fixtures this module shares: the team's server (test_serve_team.py) and the browser.
browser = test_serve_browser.browser
folders = test_serve_team.folders
team = test_serve_team.team

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
def test_each_user_logs_in_and_sees_only_their_documents(
    team, browser, user, own_files, own_code, other_code, question
):
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


def log_in(browser, url: str, user: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.delete_all_cookies()
    browser.get(url + "/login")
    browser.find_element(By.ID, "user").send_keys(user)
    browser.find_element(By.ID, "password").send_keys(PASSWORDS[user])
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: f"logged in as {user}" in d.find_element(By.ID, "status").text)
    return wait


def test_an_admin_manages_users_and_grants_from_the_page_and_no_one_else_sees_it(team, browser):
    from selenium.webdriver.common.by import By

    wait = log_in(browser, team["url"], "bob")
    assert not browser.find_element(By.ID, "tab-users").is_displayed()

    wait = log_in(browser, team["url"], "alice")
    tab = wait.until(
        lambda d: d.find_element(By.ID, "tab-users") if d.find_element(By.ID, "tab-users").is_displayed() else None
    )
    tab.click()
    wait.until(lambda d: "bob" in d.find_element(By.ID, "users-table").text)
    browser.find_element(By.ID, "new-user").send_keys("carol")
    browser.find_element(By.ID, "new-password").send_keys("carol-password-1")
    browser.find_element(By.ID, "new-groups").send_keys("auditors")
    browser.find_element(By.CSS_SELECTOR, "#user-form button").click()
    wait.until(lambda d: "carol" in d.find_element(By.ID, "users-table").text)
    browser.find_element(By.ID, "grant-group").send_keys("auditors")
    browser.find_element(By.ID, "grant-folder").send_keys("hr")
    browser.find_element(By.CSS_SELECTOR, "#grant-form button").click()
    wait.until(lambda d: "auditors" in d.find_element(By.ID, "grants-table").text)
    assert team["store"].folders_of("carol") == {str(team["hr"].resolve())}
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#grants-table tbody tr") if "auditors" in r.text)
    row.find_element(By.TAG_NAME, "button").click()
    wait.until(lambda d: "auditors" not in d.find_element(By.ID, "grants-table").text)
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#users-table tbody tr") if "carol" in r.text)
    row.find_element(By.TAG_NAME, "button").click()
    wait.until(lambda d: "carol" not in d.find_element(By.ID, "users-table").text)
    assert team["store"].user("carol") is None and team["store"].folders_of("carol") == set()
    browser.delete_all_cookies()


def test_a_user_makes_a_key_on_the_page_sees_it_once_and_revokes_it(team, browser):
    import httpx
    from selenium.webdriver.common.by import By

    wait = log_in(browser, team["url"], "bob")
    tab = wait.until(
        lambda d: d.find_element(By.ID, "tab-keys") if d.find_element(By.ID, "tab-keys").is_displayed() else None
    )
    tab.click()
    browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
    shown = wait.until(lambda d: d.find_element(By.ID, "new-key-text").text.strip() or None)
    assert shown.startswith("lgk_")
    key_id = shown.split("_")[1]
    wait.until(lambda d: key_id in d.find_element(By.ID, "keys-table").text)
    assert shown not in browser.find_element(By.ID, "keys-table").text  # listed by id only
    with httpx.Client(base_url=team["url"], headers={"authorization": f"Bearer {shown}"}) as script:
        found = script.post("/api/search", json={"query": DEPLOY})
        assert found.status_code == 200 and ENG_CODE in found.text
        assert script.post("/api/ask", json={"query": DEPLOY}).status_code == 403  # the default scope: search
        row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#keys-table tbody tr") if key_id in r.text)
        row.find_element(By.TAG_NAME, "button").click()
        wait.until(lambda d: f"Key {key_id} revoked." in d.find_element(By.ID, "keys-message").text)
        assert script.post("/api/search", json={"query": DEPLOY}).status_code == 401
    browser.delete_all_cookies()
