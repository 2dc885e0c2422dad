"""The browser tests' harness: without Chromium they are skipped saying why, except in CI, where they fail."""

import shutil

import pytest

from backend.tests import browser


@pytest.fixture
def no_browser(monkeypatch):
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.delenv("CHROMEDRIVER", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)


def test_without_a_browser_the_tests_are_skipped_saying_what_to_install(no_browser, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no chromium and no chromedriver.*apt-get install chromium"):
        browser.require_browser()


@pytest.mark.parametrize("value", ["true", "1", "TRUE"])
def test_in_ci_a_missing_browser_is_a_failure_not_a_skip(no_browser, monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests, but no chromium"):
        browser.require_browser()


def test_the_browser_and_driver_may_be_named_in_the_environment(no_browser, monkeypatch, tmp_path):
    monkeypatch.setenv("CHROMIUM", "/opt/chrome/chrome")
    monkeypatch.setenv("CHROMEDRIVER", "/opt/chrome/chromedriver")
    assert browser.require_browser() == ("/opt/chrome/chrome", "/opt/chrome/chromedriver")


def test_failures_are_saved_where_browser_artifacts_says(monkeypatch, pytestconfig, tmp_path):
    monkeypatch.setenv("BROWSER_ARTIFACTS", str(tmp_path / "shots"))
    assert browser.artifacts_dir(pytestconfig) == tmp_path / "shots"
    monkeypatch.delenv("BROWSER_ARTIFACTS")
    assert browser.artifacts_dir(pytestconfig) == pytestconfig.rootpath / ".browser-artifacts"
