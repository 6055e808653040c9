"""A newcomer's first contact on a server with no SMTP server: the verification email
appears in the Outbox without a reload, its link can be clicked, and its HTML part is
shown in a sandboxed frame."""

import re

from conftest import DESKTOP, PHONE, audit, shot


def test_the_outbox_shows_new_mail_with_a_link_to_click(browser, outbox_server):
    server = outbox_server
    # Its own context: axe-core is injected past the Content-Security-Policy.
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    page.goto(server.url + "/login")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(server.admin_password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/directory")
    page.goto(server.url + "/outbox")
    page.get_by_text("No messages yet").wait_for()

    # Created in another tab: the Outbox shows the email on its own.
    other = page.context.new_page()
    other.goto(server.url + "/contacts/new")
    other.get_by_label("Contact Name").fill("Newcomer")
    other.get_by_label("Email Address").fill("newcomer@example.com")
    other.get_by_label("Title").select_option("CEO")
    other.get_by_role("button", name="OK", exact=True).click()
    other.wait_for_url(re.compile(r".*/contacts/c-\w{16}$"))
    contact_url = other.url
    other.close()

    page.get_by_role("link", name=re.compile("Confirm your email address")).wait_for(timeout=20000)
    page.get_by_role("link", name=re.compile("Confirm your email address")).click()
    frame = page.locator("iframe.mail-html")
    assert frame.get_attribute("sandbox") == ""
    assert "Newcomer" in page.frame_locator("iframe.mail-html").locator("body").inner_text()
    message_url = page.url
    problems = audit(page, "outbox-message")
    page.locator("pre.mail-text a[href*=\"/verify/\"]").click()
    page.get_by_role("button", name=re.compile("Confirm")).click()
    page.get_by_role("heading", name="Address confirmed").wait_for()
    page.goto(contact_url)
    page.get_by_text("Active").first.wait_for()

    page.goto(server.url + "/outbox")
    problems += audit(page, "outbox-list")
    page.set_viewport_size(PHONE)
    problems += audit(page, "outbox-list")
    page.goto(message_url)
    problems += audit(page, "outbox-message")
    context.close()
    assert not problems, "\n".join(problems)
