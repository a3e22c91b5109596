"""The web app in a real headless browser (Debian's chromium and chromium-driver, driven by selenium):
ask the sample question, see the answer stream in, click a piece of evidence, see the highlighted page."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from conftest import allow_loopback
from live_server import live_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM and DRIVER),
        reason="needs Debian's chromium and chromium-driver "
        "(apt-get install chromium chromium-driver; .ci/run installs them)",
    ),
]

QUESTION = "What is the notice period in the lease?"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(sample_db):
    from core.settings import load_settings
    from server.app import build_app
    from server.engine import Engine

    engine = Engine(load_settings({"db": sample_db, "max_tokens": 64}, environ={"LOCALGPT_THREADS": "2"}))
    engine.load()
    with live_server(build_app(engine, None, {"127.0.0.1", "localhost"})) as live:
        yield live
    engine.close()


@pytest.fixture
def browser(monkeypatch):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # selenium's driver manager must not look anything up
    port = free_port()
    allow_loopback(port)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--window-size=1280,1000",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER, port=port), options=options)
    yield driver
    driver.quit()


def shoot(driver, name: str) -> None:
    folder = os.environ.get("SERVE_SCREENSHOTS")
    if folder:
        driver.save_screenshot(str(Path(folder) / name))


def test_ask_see_the_answer_click_the_evidence_see_the_page(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server.url + "/")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.ID, "ask-button").click()
    wait = WebDriverWait(browser, 240)
    answer = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-role=answer]"))
    wait.until(lambda d: answer.text.strip())  # the answer streams in
    evidence = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "button.evidence"))
    assert "lease_agreement.pdf" in evidence[0].text
    assert browser.find_elements(By.CSS_SELECTOR, "button.citation")
    evidence[0].click()
    image = browser.find_element(By.ID, "viewer-image")
    wait.until(
        lambda d: (
            image.is_displayed()
            and d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image)
        )
    )
    assert "highlight=" in image.get_attribute("src")
    shoot(browser, "serve-answer.png")

    # A second question in the same conversation, answered from a Word file: the viewer shows the
    # passage text with the evidence sentence marked, not a page image.
    browser.find_element(By.ID, "question").send_keys("How often should the kettle be descaled?")
    browser.find_element(By.ID, "ask-button").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".turn")) == 2)
    turn = browser.find_elements(By.CSS_SELECTOR, ".turn")[1]
    evidence = wait.until(lambda d: turn.find_elements(By.CSS_SELECTOR, "button.evidence"))
    assert "kettle_manual.docx" in evidence[0].text
    evidence[0].click()
    mark = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#viewer-text mark"))
    marked = " ".join(mark.text.split())
    assert mark.is_displayed() and marked and marked[:40] in " ".join(evidence[0].text.split())
    assert not image.is_displayed()


def test_documents_view_and_phone_width(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(390, 844)
    browser.get(server.url + "/")
    browser.find_element(By.ID, "tab-docs").click()
    wait = WebDriverWait(browser, 60)
    rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#docs-table tbody tr"))
    assert any("lease_agreement.pdf" in r.text for r in rows)
    assert not browser.find_element(By.ID, "question").is_displayed()  # the ask view is hidden
    browser.find_element(By.ID, "docs-query").send_keys("kettle")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#docs-table tbody tr")) == 1)
    assert browser.execute_script("return document.body.scrollWidth <= window.innerWidth + 1")
    shoot(browser, "serve-documents-phone.png")
