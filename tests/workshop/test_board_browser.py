"""The board in a real browser: Debian's Chromium, headless, driven through its chromedriver.

It loads the board with the token in the URL's fragment, sees a learner appear as a test
client sends snapshots, and a step turn done; it opens the learner's detail from the
keyboard, and sends a message to the room from the page. Then the whole way: a learner's
tutor autoplays day55 on the sandbox with `--workshop`, and the board sees them appear,
their steps turn done one by one, and them finish. Skipped, with the reason, where
Chromium or its driver is missing (`.ci/run` installs both).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.polling import wait_until
from tests.session.conftest import needs_kubectl
from tutor.workshop.server.serve import ServerThread

from .helpers import free_port, join, put_snapshot, raw, snapshot

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extras")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    # Never let Selenium look for (or download) a driver or a browser of its own.
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = Options()
    assert CHROMIUM is not None and CHROMEDRIVER is not None
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        "--disable-domain-reliability",
        "--disable-features=OptimizationHints,MediaRouter,Translate",
        # Only loopback addresses exist for this browser: no name resolves anywhere else.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def text_of(driver: Any, selector: str) -> str:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return str(driver.find_element(By.CSS_SELECTOR, selector).text)
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def test_the_board_shows_a_learner_appear_and_a_step_turn_done(browser: Any, server: ServerThread) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(f"{server.url}/board#token={server.instructor_token}")
    wait_until(lambda: text_of(browser, "#connection") == "Live", what="the board's live feed")
    assert server.instructor_token not in browser.current_url, "the token leaves the address bar at once"
    assert "No learner has joined yet." in text_of(browser, "#everyone")

    learner, secret = join(server.port, server.join_code, "Ana")
    wait_until(lambda: "Ana" in text_of(browser, f'tr[data-learner="{learner}"]'), what="Ana's row")
    assert put_snapshot(server.port, learner, secret, snapshot(1, done=0, on_screen="start")).status == 204
    first_step = f'tr[data-learner="{learner}"] td[data-step="start"]'
    wait_until(lambda: text_of(browser, f"{first_step} .cell") == "▶ … 1/2", what="step 1 on screen, waiting")
    # What a screen reader says of the cell, besides the symbols.
    assert "Step 1: waiting: 1 of 2 checks pass, on screen" in text_of(browser, first_step)

    assert (
        put_snapshot(server.port, learner, secret, snapshot(2, done=1, on_screen="default-storageclass")).status == 204
    )
    wait_until(lambda: text_of(browser, f"{first_step} .cell") == "✓ done", what="step 1 done on the board")
    assert browser.find_element(By.CSS_SELECTOR, first_step).get_attribute("data-state") == "done"
    assert "Step 1: done" in text_of(browser, first_step)

    assert put_snapshot(server.port, learner, secret, snapshot(3, done=1, stuck=True, on_screen="deploy")).status == 204
    wait_until(lambda: "mongo-0: 0/1 ready, PVC Pending" in text_of(browser, "#stuck"), what="Ana among the stuck")
    assert "Ana on step 3 (Deploy Pac-Man and MongoDB), for 4 min" in text_of(browser, "#stuck")
    assert "✗ stuck" in text_of(browser, f'tr[data-learner="{learner}"] th')

    # The keyboard opens a learner's detail, and Escape closes it.
    name = browser.find_element(By.CSS_SELECTOR, f'tr[data-learner="{learner}"] button.who')
    name.send_keys(Keys.ENTER)
    wait_until(
        lambda: browser.find_element(By.ID, "detail").get_attribute("open") is not None, what="the detail dialog"
    )
    detail = text_of(browser, "#detail")
    assert "the simulated cluster (sandbox)" in detail and "pacman-forward: up" in detail
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait_until(lambda: browser.find_element(By.ID, "detail").get_attribute("open") is None, what="the dialog to close")

    # Large type for the projector, as a real toggle button.
    large = browser.find_element(By.ID, "large")
    large.click()
    assert large.get_attribute("aria-pressed") == "true"
    assert "large" in (browser.find_element(By.TAG_NAME, "html").get_attribute("class") or "")

    # A message to the room, from the page.
    browser.find_element(By.ID, "message").send_keys("Break until 11:00")
    browser.find_element(By.CSS_SELECTOR, "#message-form button").click()
    wait_until(lambda: text_of(browser, "#room-result") == "Sent to everyone.", what="the message sent")
    answer = raw(server.port, "GET", f"/api/v1/learners/{learner}/notices?after=0", token=secret)
    assert answer.json["notices"][0]["text"] == "Break until 11:00"


def test_the_board_asks_for_the_token_and_refuses_a_wrong_one(browser: Any, server: ServerThread) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/board")
    wait_until(lambda: browser.find_element(By.ID, "login").is_displayed(), what="the token form")
    browser.find_element(By.ID, "token").send_keys("not-the-token")
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    wait_until(lambda: "not this workshop's instructor token" in text_of(browser, "#login-error"), what="the refusal")
    browser.find_element(By.ID, "token").send_keys(server.instructor_token)
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    wait_until(lambda: text_of(browser, "#connection") == "Live", what="the board, signed in")
    # A learner's name is text, never markup.
    learner, _ = join(server.port, server.join_code, "<img src=x onerror=alert(1)>")
    wait_until(
        lambda: "<img src=x onerror=alert(1)>" in text_of(browser, f'tr[data-learner="{learner}"]'),
        what="the name, as text",
    )
    assert not browser.find_elements(By.CSS_SELECTOR, "#lessons img")


@needs_kubectl
def test_the_board_follows_a_learner_autoplaying_day55_on_the_sandbox(
    browser: Any, server: ServerThread, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/board#token={server.instructor_token}")
    wait_until(lambda: text_of(browser, "#connection") == "Live", what="the board's live feed")
    log = tmp_path / "tutor.log"
    with log.open("w") as out:
        tutor = subprocess.Popen(
            [
                sys.executable, "-m", "tutor", "day55", "--sandbox", "--plain", "--autoplay",
                "--workshop", f"{server.url}/{server.join_code}", "--name", "Ana Lee",
                "--set", f"local_port={free_port()}",
            ],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
            env={**os.environ, "KUBECACHEDIR": str(tmp_path / "kubecache")},
        )  # fmt: skip
        try:
            row = "tr[data-learner] th"
            wait_until(lambda: "Ana Lee" in text_of(browser, row), timeout=60, what="the learner's row")
            first = "tr[data-learner] td[data-step='start']"
            wait_until(lambda: text_of(browser, f"{first} .cell") == "✓ done", timeout=120, what="step 1 done")
            assert tutor.wait(240) == 0, log.read_text()[-3000:]
        finally:
            if tutor.poll() is None:
                tutor.kill()
                tutor.wait()
    last = "tr[data-learner] td[data-step='tunnel']"
    # The last step is still on the learner's screen: "▶ ✓ done".
    wait_until(lambda: text_of(browser, f"{last} .cell") == "▶ ✓ done", what="the last step done")
    wait_until(lambda: "Ana Lee" in text_of(browser, "#done"), what="Ana Lee among those done")
    cells = browser.find_elements(By.CSS_SELECTOR, "tr[data-learner] td[data-step]")
    assert len(cells) == 11 and all(cell.get_attribute("data-state") == "done" for cell in cells)
    assert "[workshop] Joined the workshop at" in log.read_text()
