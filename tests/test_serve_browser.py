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
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console: failed loads show there
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


# A passage of an HTML page as /api/ask returns it: long, the evidence sentence near its end.
LONG_PASSAGE = """
const filler = Array.from({length: 80}, (_, i) => `Paragraph ${i + 1} of the page says something else entirely.`).join("\\n\\n");
const sentence = "The marked sentence: bigserial should be used beyond 2^31 identifiers.";
const text = filler + "\\n\\n" + sentence + "\\n\\nA last paragraph.";
const start = text.indexOf(sentence);
const passage = {source: "postgresql/datatype-numeric.html", location: "8.1.4. Serial Types", text: sentence,
                 passage: {text, start, end: start + sentence.length}};
openViewer(passage, {n: 1, start, end: start + sentence.length, text: sentence});
"""


def _in_view(driver) -> bool:
    """The <mark> lies inside the viewer's visible box and inside the window."""
    return driver.execute_script(
        """
        const mark = document.querySelector("#viewer-text mark"), viewer = document.getElementById("viewer");
        if (!mark) return false;
        const m = mark.getBoundingClientRect(), v = viewer.getBoundingClientRect();
        const top = Math.max(v.top, 0), bottom = Math.min(v.bottom, window.innerHeight);
        return m.height > 0 && m.top >= top - 1 && m.bottom <= bottom + 1;
        """
    )


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["laptop", "phone"])
def test_the_viewer_scrolls_the_marked_sentence_into_view(server, browser, size):
    """An HTML page's passage is long and its evidence sentence comes late: the viewer opens on the
    sentence, not on the top of the passage (at phone width the page itself scrolls to it)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(*size)
    browser.get(server.url + "/")
    WebDriverWait(browser, 60).until(lambda d: d.execute_script("return typeof openViewer === 'function'"))
    browser.execute_script(LONG_PASSAGE)
    mark = browser.find_element(By.CSS_SELECTOR, "#viewer-text mark")
    assert "2^31 identifiers" in mark.text
    assert _in_view(browser), browser.execute_script(
        "const m = document.querySelector('#viewer-text mark').getBoundingClientRect(), v = document.getElementById('viewer');"
        "return [m.top, m.bottom, v.getBoundingClientRect().top, v.getBoundingClientRect().bottom, v.scrollHeight, v.clientHeight, window.innerHeight, window.scrollY, getComputedStyle(v).position]"
    )
    # and the passage really is longer than what is shown: the top is out of sight now
    assert browser.execute_script(
        "const v = document.getElementById('viewer'); return v.scrollTop > 0 || window.scrollY > 0"
    )


def test_the_pages_load_without_a_404_and_with_their_icon(server, browser):
    """Nothing the web app loads fails: the favicon too (an icon of its own, from this server)."""
    browser.get(server.url + "/")
    icon = browser.execute_script("return document.querySelector('link[rel=icon]').href")
    assert icon.startswith(server.url + "/")
    statuses = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        Promise.all(["/favicon.ico", arguments[0]].map((u) => fetch(u).then((r) => [r.status, r.headers.get("content-type")])))
          .then(done);
        """,
        icon,
    )
    assert statuses == [[200, "image/x-icon"], [200, "image/svg+xml"]], statuses
    browser.get(server.url + "/login")
    failed = [e for e in browser.get_log("browser") if "404" in e["message"] or "Failed to load" in e["message"]]
    assert not failed, failed
