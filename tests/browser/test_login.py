import pytest

from portal.domain import Role
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_login_in_chromium(live_server, page, make_user):
    user = make_user(Role.BACKOFFICE, naam="Bram Browser")
    page.goto(f"{live_server}/")
    assert "/login" in page.url
    page.fill("#f-email", user.email)
    page.fill("#f-password", "fout-wachtwoord-123")
    page.click("button[type=submit]")
    assert "klopt niet" in page.inner_text("main")
    browser_login(page, live_server, user.email, PASSWORD)
    assert "Goedendag, Bram Browser" in page.inner_text("h1")
