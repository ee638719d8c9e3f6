"""The dashboard in a real browser: headless Chromium from Debian, driven by selenium.

Real daemons on loopback serve the dashboard ([web] on each node); the tests
log in through the form as a person would and watch the page change by
itself (server-sent events), without reloading: a node killed with SIGKILL
turns dead, an operator's standby moves the resources.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from loopback_cluster import LoopbackCluster
from web_cluster import login, make_browser, start_web_cluster, url, wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def browser() -> Iterator[Any]:
    driver = make_browser()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def web(make_cluster: Callable[..., LoopbackCluster]) -> LoopbackCluster:
    return start_web_cluster(make_cluster(3))


def _row_state(driver: Any, css: str) -> str | None:
    rows = driver.find_elements("css selector", css)
    return rows[0].get_attribute("data-state") if rows else None


def test_node_killed_turns_dead_on_the_open_page_without_reload(
        web: LoopbackCluster, browser: Any) -> None:
    login(browser, url(web, "node1", ""), "admin")
    wait_for(browser, lambda d: _row_state(d, 'tr[data-node="node3"]') == "up", 10,
             "node3 shown up")
    # A mark in the page's memory: a reload would wipe it.
    browser.execute_script("window.vigilTestMark = 'same page'")
    web["node3"].signal(signal.SIGKILL)
    wait_for(browser, lambda d: _row_state(d, 'tr[data-node="node3"]') == "dead",
             web.deadtime_ms / 1000 + 5, "node3 shown dead after its SIGKILL")
    assert browser.execute_script("return window.vigilTestMark") == "same page"
    # The state in words, not colour alone (read inside a wait: the page may redraw).
    wait_for(browser, lambda d: "dead" in d.find_element(
        "css selector", 'tr[data-node="node3"]').text, 5, "node3's row says dead")
    wait_for(browser, lambda d: "quorum 2/3" in d.find_element("id", "quorum").text, 5,
             "the quorum line says 2/3")


def test_operator_standby_of_the_active_node_moves_its_group_on_the_page(
        web: LoopbackCluster, browser: Any) -> None:
    login(browser, url(web, "node2", ""), "admin")
    vip = 'tr[data-resource="vip"]'
    wait_for(browser, lambda d: d.find_element("css selector", vip).get_attribute("data-node")
             == "node1" and _row_state(d, vip) == "running", 15, "vip running on node1")
    # Found and clicked inside a wait: the page may redraw the row in between.
    wait_for(browser, lambda d: d.find_element(
        "css selector", 'button[data-action="standby"][data-node="node1"]').click() or True,
        5, "the standby button of node1 is clicked")
    dialog = browser.find_element("id", "confirm")
    wait_for(browser, lambda _d: dialog.is_displayed(), 5, "the confirmation dialog opens")
    assert "node1" in browser.find_element("id", "confirm-text").text
    browser.find_element("id", "confirm-ok").click()
    answer = browser.find_element("id", "answer")
    wait_for(browser, lambda _d: answer.get_attribute("data-ok") == "true", 20,
             "the cluster's answer to the standby")
    assert "standby" in answer.text
    wait_for(browser, lambda d: d.find_element("css selector", vip).get_attribute("data-node")
             not in ("node1", "") and _row_state(d, vip) == "running", 20,
             "vip running on another node")
    wait_for(browser, lambda d: "standby" in d.find_element(
        "css selector", 'tr[data-node="node1"]').text, 5, "node1's row says standby")


def test_read_only_user_sees_the_cluster_but_every_action_button_is_disabled(
        web: LoopbackCluster, browser: Any) -> None:
    login(browser, url(web, "node1", ""), "viewer")
    def all_disabled(d: Any) -> bool:
        buttons = d.find_elements("css selector", "button[data-action]")
        return bool(buttons) and all(not b.is_enabled() for b in buttons)

    wait_for(browser, all_disabled, 5, "the page shows the actions, every one disabled")
    assert "read-only" in browser.find_element("id", "whoami").text
