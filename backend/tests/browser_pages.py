"""What a person does in the admin, as Selenium calls: open, sign in, tick, choose an action, type, read messages.

Used by the ``browser`` fixture (``backend.tests.browser``); everything waits for the page it expects instead of
sleeping.
"""

from django.conf import settings
from django.test import Client
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC  # noqa: N812
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT_SECONDS = 10


class Browser:
    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base_url = base_url
        self.downloads = driver.downloads

    # --- navigation ---------------------------------------------------------------------------------------------

    def viewport(self, width: int, height: int) -> None:
        """The page's layout viewport exactly ``width``×``height`` CSS pixels (not the window's outer size)."""
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def open(self, path: str) -> None:
        self.driver.get(f"{self.base_url}{path}")
        self.wait_loaded()

    def wait_loaded(self) -> None:
        WebDriverWait(self.driver, WAIT_SECONDS).until(
            lambda d: d.execute_script("return document.readyState") == "complete"
        )

    def submit(self, element) -> None:
        """Click a submit button and wait for the next page to have loaded.

        The old page is marked and the wait is for a complete document without the mark; while the browser is
        between the two, chromedriver may answer with errors (a node "does not belong to the document"): ignored.
        """
        self.driver.execute_script("window.cvPageBefore = true;")
        element.click()
        WebDriverWait(self.driver, WAIT_SECONDS, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script("return !window.cvPageBefore && document.readyState === 'complete';")
        )

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base_url)

    # --- signing in ---------------------------------------------------------------------------------------------

    def sign_in(self, email: str, password: str) -> None:
        """The admin's own sign-in form, as typed."""
        self.open("/admin/login/?next=/admin/")
        self.find("#id_username").send_keys(email)
        self.find("#id_password").send_keys(password)
        self.submit(self.find('#login-form [type="submit"]'))

    def signed_in_as(self, user) -> None:
        """Start signed in as ``user`` (a session made server-side, its cookie given to the browser): the sign-in
        form itself is tested once, not before every test."""
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        self.open("/healthz")  # a cookie can only be set for the site the browser is on
        self.driver.add_cookie({"name": cookie.key, "value": cookie.value, "path": "/"})

    # --- reading ------------------------------------------------------------------------------------------------

    def find(self, css: str, within=None):
        return (within or self.driver).find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str, within=None) -> list:
        return (within or self.driver).find_elements(By.CSS_SELECTOR, css)

    def wait_for(self, css: str, timeout: float = WAIT_SECONDS):
        try:
            return WebDriverWait(self.driver, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))
        except TimeoutException as exc:
            raise AssertionError(f"{css!r} did not appear on {self.path}") from exc

    def text(self, css: str = "body") -> str:
        return self.find(css).text

    def messages(self) -> list[tuple[str, str]]:
        """The admin's messages as (level, text): ("success", "Activate: done for …")."""
        return [
            ((item.get_attribute("class") or "info").split()[0], item.text)
            for item in self.find_all("ul.messagelist li")
        ]

    def console_errors(self) -> list[str]:
        """Errors the page logged since the last call (a script error, a CSP refusal, a missing file)."""
        entries = self.driver.get_log("browser")
        # The browser asks for /favicon.ico by itself; the admin has none.
        return [e["message"] for e in entries if e["level"] == "SEVERE" and "/favicon.ico " not in e["message"]]

    def assert_no_console_errors(self) -> None:
        errors = self.console_errors()
        assert not errors, "the page logged errors:\n" + "\n".join(errors)

    def hover(self, element) -> None:
        ActionChains(self.driver).move_to_element(element).perform()

    # --- typing -------------------------------------------------------------------------------------------------

    def fill(self, css: str, value: str) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(value)

    def set_date(self, css: str, value: str) -> None:
        """A ``<input type="date">``: what a person picks, set as its ISO value (typing into it depends on the
        browser's locale), with the events a pick fires."""
        self.driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
            self.find(css),
            value,
        )

    def choose(self, css: str, *, text: str | None = None, value: str | None = None) -> None:
        select = Select(self.find(css))
        if text is not None:
            select.select_by_visible_text(text)
        else:
            select.select_by_value(value)

    # --- the changelist -----------------------------------------------------------------------------------------

    def run_action(self, changelist: str, action_label: str, *pks) -> None:
        """On ``changelist``, tick ``pks``, choose the action by its label and press Go."""
        self.open(changelist)
        for pk in pks:
            self.find(f'input.action-select[value="{pk}"]').click()
        self.choose('select[name="action"]', text=action_label)
        self.submit(self.find('button[name="index"]'))
