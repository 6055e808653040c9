"""Contacts end to end: the SDK adds a contact, the verification email arrives at the
real SMTP server, its link is confirmed in Chromium; an administrator uses the panel."""

import email
import re

import pytest
from alibabacloud_resourcedirectorymaster20220419 import models as rdm
from alibabacloud_tea_openapi.exceptions import ClientException

from conftest import shot
from test_console import sign_in


def link_in(message):
    """The verification link of a received email, from its plain-text part."""
    parsed = email.message_from_string(message["data"])
    for part in parsed.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            return re.search(r"(http://\S+/verify/[A-Za-z0-9_-]+)", text).group(1)
    raise AssertionError("no plain-text part")


def test_a_contact_added_through_the_sdk_verifies_in_the_browser(sdk, smtp, page):
    added = sdk.add_message_contact(rdm.AddMessageContactRequest(
        name="SdkTom", email_address="sdk-tom@example.com", title="TechnicalDirector",
        message_types=["SecurityMessage", "FaultMessage"]))
    contact_id = added.body.contact.contact_id
    assert contact_id.startswith("c-")
    got = sdk.get_message_contact(rdm.GetMessageContactRequest(contact_id=contact_id)).body.contact
    assert got.status == "Verifying" and got.message_types == ["SecurityMessage", "FaultMessage"]

    message = smtp.wait_for(lambda m: "sdk-tom@example.com" in m["to"])[0]
    link = link_in(message)
    page.goto(link)
    assert page.get_by_text("sdk-tom@example.com").first.is_visible()
    shot(page, "verify-confirm")
    page.get_by_role("button", name=re.compile("Confirm")).click()
    page.get_by_role("heading", name="Address confirmed").wait_for()
    shot(page, "verify-done")

    got = sdk.get_message_contact(rdm.GetMessageContactRequest(contact_id=contact_id)).body.contact
    assert got.status == "Active"
    listed = sdk.list_message_contacts(rdm.ListMessageContactsRequest(contact_id=contact_id)).body
    assert listed.total_count == 1 and listed.contacts[0].name == "SdkTom"

    page.goto(link)
    page.get_by_role("heading", name="This link cannot be used").wait_for()


def test_sdk_errors_for_contacts_are_precise(sdk):
    with pytest.raises(ClientException) as bad_name:
        sdk.add_message_contact(rdm.AddMessageContactRequest(
            name="x", email_address="x@example.com", title="CEO", message_types=["ServiceMessage"]))
    assert bad_name.value.code == "InvalidParameter.Name.Length"
    with pytest.raises(ClientException) as missing:
        sdk.get_message_contact(rdm.GetMessageContactRequest(contact_id="c-0000000000000000"))
    assert missing.value.code == "EntityNotExists.Contact" and missing.value.status_code == 404


def test_an_administrator_creates_modifies_and_cancels_an_email_change(page, server, smtp, sdk):
    sign_in(page, server)
    page.goto(server.url + "/contacts")
    page.get_by_role("link", name="Create Contact").click()
    panel = page.locator("#panel")
    panel.get_by_label("Contact Name").wait_for()

    # Bad input: each message next to its field, in the panel.
    panel.get_by_label("Contact Name").fill("a1")
    panel.get_by_label("Email Address").fill("not an email")
    panel.get_by_role("button", name="OK", exact=True).click()
    panel.locator("#contact-name-error").wait_for()
    assert "Chinese characters and English letters" in panel.locator("#contact-name-error").inner_text()
    assert "not an email address" in panel.locator("#contact-email-error").inner_text()
    assert panel.locator("#contact-types-error").is_visible()
    shot(page, "contact-panel-errors")

    panel.get_by_label("Contact Name").fill("王Ops")
    panel.get_by_label("Email Address").fill("ops-old@example.com")
    panel.get_by_label("Title").select_option("MaintenanceDirector")
    # The title's suggestion ticks product, security, fault and service.
    checked = [b.get_attribute("value") for b in panel.locator('input[name="message_types"]:checked').all()]
    assert checked == ["ProductMessage", "SecurityMessage", "FaultMessage", "ServiceMessage"]
    panel.get_by_role("button", name="OK", exact=True).click()
    page.wait_for_url(re.compile(r".*/contacts/c-\w{16}$"))
    contact_url = page.url
    # The action says it is done, once: the message comes from the session, not the address.
    assert "王Ops is created. A verification email is on its way to ops-old@example.com" in page.locator(".flash").inner_text()
    page.reload()
    assert page.locator(".flash").count() == 0
    page.get_by_text("Verifying").first.wait_for()

    link = link_in(smtp.wait_for(lambda m: "ops-old@example.com" in m["to"])[0])
    page.goto(link)
    page.get_by_role("button", name=re.compile("Confirm")).click()
    page.get_by_role("heading", name="Address confirmed").wait_for()

    page.goto(contact_url)
    page.get_by_role("link", name="Modify", exact=True).click()
    panel.get_by_label("Email Address").fill("ops-new@example.com")
    panel.get_by_role("button", name="OK", exact=True).click()
    page.wait_for_url(contact_url)
    page.get_by_text("Changing to").wait_for()
    assert page.locator(".flash").inner_text() == (
        "Saved. A verification email is on its way to ops-new@example.com; notifications keep going to ops-old@example.com until it is confirmed."
    )
    smtp.wait_for(lambda m: "ops-new@example.com" in m["to"])
    shot(page, "contact-details")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel change").click()
    page.wait_for_url(contact_url)
    assert page.get_by_text("Changing to").count() == 0
    assert page.locator(".flash").inner_text() == "The address change is cancelled; notifications keep going to ops-old@example.com."
    contact_id = contact_url.rsplit("/", 1)[1]
    got = sdk.get_message_contact(rdm.GetMessageContactRequest(contact_id=contact_id)).body.contact
    assert got.email_address == "ops-old@example.com" and got.status == "Active"

    page.goto(server.url + "/contacts")
    page.get_by_text("王Ops").wait_for()
    shot(page, "contacts")
