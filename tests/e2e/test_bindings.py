"""Bindings and Message Centers end to end: the SDK binds and moves; a member user
invited through the real SMTP server manages its Message Center in Chromium; an
administrator binds through the Select Objects panel and unbinds from Effective Scope."""

import re

from alibabacloud_resourcedirectorymaster20220419 import models as rdm

from conftest import shot
from test_console import sign_in
from test_contacts import link_in
from rdc_support import text_of


def active_contact(sdk, smtp, page, name, address, types):
    cid = sdk.add_message_contact(rdm.AddMessageContactRequest(
        name=name, email_address=address, title="Other", message_types=types)).body.contact.contact_id
    page.goto(link_in(smtp.wait_for(lambda m: address in m["to"])[0]))
    page.get_by_role("button", name=re.compile("Confirm")).click()
    page.get_by_role("heading", name="Address confirmed").wait_for()
    return cid


def test_the_sdk_binds_to_a_folder_and_a_member_and_moves_a_member(sdk, smtp, page):
    a = sdk.create_folder(rdm.CreateFolderRequest(folder_name="bind-a")).body.folder.folder_id
    b = sdk.create_folder(rdm.CreateFolderRequest(folder_name="bind-b")).body.folder.folder_id
    m = sdk.create_resource_account(rdm.CreateResourceAccountRequest(display_name="bind member", parent_folder_id=a)).body.account.account_id
    for_a = active_contact(sdk, smtp, page, "ForFolderA", "for-a@example.com", ["SecurityMessage"])
    for_b = active_contact(sdk, smtp, page, "ForFolderB", "for-b@example.com", ["SecurityMessage"])

    bound = sdk.associate_members(rdm.AssociateMembersRequest(contact_id=for_a, members=[a, m])).body
    assert sorted(x.member_id for x in bound.members) == sorted([a, m])
    sdk.associate_members(rdm.AssociateMembersRequest(contact_id=for_b, members=[b]))
    got = sdk.get_message_contact(rdm.GetMessageContactRequest(contact_id=for_a)).body.contact
    assert sorted(got.members) == sorted([a, m])
    by_folder = sdk.list_message_contacts(rdm.ListMessageContactsRequest(member=b)).body
    assert [c.contact_id for c in by_folder.contacts] == [for_b] and by_folder.contacts[0].associated_date

    sdk.move_account(rdm.MoveAccountRequest(account_id=m, destination_folder_id=b))
    by_member = sdk.list_message_contacts(rdm.ListMessageContactsRequest(member=m)).body
    assert [c.contact_id for c in by_member.contacts] == [for_a], "the direct binding stays"
    sdk.disassociate_members(rdm.DisassociateMembersRequest(contact_id=for_a, members=[m]))
    assert sdk.get_message_contact(rdm.GetMessageContactRequest(contact_id=for_a)).body.contact.members == [a]


def test_a_member_user_manages_its_message_center_and_the_administrator_sees_the_drift(sdk, smtp, page, server):
    folder = sdk.create_folder(rdm.CreateFolderRequest(folder_name="mc-folder")).body.folder.folder_id
    member = sdk.create_resource_account(rdm.CreateResourceAccountRequest(display_name="mc member", parent_folder_id=folder)).body.account.account_id
    tom = active_contact(sdk, smtp, page, "McTom", "mc-tom@example.com", ["SecurityMessage", "FaultMessage"])
    sdk.associate_members(rdm.AssociateMembersRequest(contact_id=tom, members=[member]))

    sign_in(page, server)
    page.goto(f"{server.url}/members/{member}")
    page.get_by_label("Invite a member user by email").fill("mc-user@example.com")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("An invitation is on its way").wait_for()
    invite = re.search(r"(http://\S+/invite/[A-Za-z0-9_-]+)", text_of(smtp.wait_for(lambda m: "mc-user@example.com" in m["to"])[0])).group(1)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")

    page.goto(invite)
    page.get_by_label("New password").fill("Tide-lantern-91-quartz")
    page.get_by_label("Repeat the password").fill("Tide-lantern-91-quartz")
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_url("**/my/message-center")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.get_by_label("User name or email").fill("mc-user@example.com")
    page.get_by_label("Password").fill("Tide-lantern-91-quartz")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/my/message-center")
    assert page.get_by_text("managed by the resource directory", exact=True).is_visible()

    # Take the directory's contact off Security: nobody else receives it for this account,
    # so the row asks first, and saves once told to.
    page.get_by_label("Security for McTom").uncheck()
    page.get_by_text("nobody would receive Security").wait_for()
    with page.expect_navigation():
        page.get_by_role("button", name="Turn off anyway").click()
    page.reload()
    assert not page.get_by_label("Security for McTom").is_checked()
    assert page.get_by_label("Fault for McTom").is_checked()

    page.get_by_label("Name", exact=True).fill("Night shift")
    page.get_by_label("Email", exact=True).fill("night@example.com")
    page.locator("form.card").get_by_label("Security").check()
    page.get_by_role("button", name="Add recipient").click()
    page.get_by_text("your recipient").first.wait_for()
    shot(page, "message-center")

    # A member user does not see the directory's pages.
    assert page.goto(f"{server.url}/members/{member}").status == 404
    page.goto(f"{server.url}/my/message-center")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    sign_in(page, server)
    page.goto(f"{server.url}/members/{member}")
    page.get_by_text("Opted out by the member: Security").wait_for()
    assert page.get_by_role("region", name="Recipients by message type").get_by_text("night@example.com").is_visible()
    shot(page, "member-drift")


def test_an_administrator_binds_in_the_panel_and_unbinding_retains_the_only_recipient(sdk, smtp, page, server):
    folder = sdk.create_folder(rdm.CreateFolderRequest(folder_name="panel-folder")).body.folder.folder_id
    lonely = sdk.create_resource_account(rdm.CreateResourceAccountRequest(display_name="lonely member", parent_folder_id=folder)).body.account.account_id
    ann = active_contact(sdk, smtp, page, "PanelAnn", "panel-ann@example.com", ["SecurityMessage"])

    sign_in(page, server)
    page.goto(f"{server.url}/contacts/{ann}")
    page.get_by_role("link", name="Bind", exact=True).click()
    panel = page.locator("#panel")
    panel.get_by_role("heading", name="Select Objects").wait_for()
    panel.locator(f'input[value="{folder}"]').check()
    shot(page, "select-objects")
    panel.get_by_role("button", name="OK", exact=True).click()
    page.wait_for_url(f"**/contacts/{ann}")
    page.locator("#scope").get_by_text("panel-folder").wait_for()
    assert page.locator(".flash").inner_text().startswith("PanelAnn is bound to 1 object.")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#scope").get_by_role("button", name="Unbind").first.click()
    page.wait_for_url(f"**/contacts/{ann}")
    assert page.locator(".flash").inner_text().startswith("PanelAnn is unbound from 1 object.")
    page.get_by_text("the only Security recipient of this member").wait_for()
    shot(page, "effective-scope")
    assert sdk.get_message_contact(rdm.GetMessageContactRequest(contact_id=ann)).body.contact.members == []
    assert [c.contact_id for c in sdk.list_message_contacts(rdm.ListMessageContactsRequest(member=lonely)).body.contacts] == []
