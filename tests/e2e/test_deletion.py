"""Deleting contacts in Chromium: keep, and remove with its progress and fail reasons."""

import re

from alibabacloud_resourcedirectorymaster20220419 import models as rdm

from conftest import shot
from test_bindings import active_contact
from test_console import sign_in


def test_an_administrator_deletes_one_contact_with_each_choice(sdk, smtp, page, server):
    folder = sdk.create_folder(rdm.CreateFolderRequest(folder_name="delete-folder")).body.folder.folder_id
    member = sdk.create_resource_account(rdm.CreateResourceAccountRequest(display_name="delete member", parent_folder_id=folder)).body.account.account_id
    keeper = active_contact(sdk, smtp, page, "KeepMe", "keep-me@example.com", ["ServiceMessage"])
    remover = active_contact(sdk, smtp, page, "RemoveMe", "remove-me@example.com", ["FaultMessage"])
    for contact in (keeper, remover):
        sdk.associate_members(rdm.AssociateMembersRequest(contact_id=contact, members=[folder]))

    sign_in(page, server)
    page.goto(f"{server.url}/contacts/{keeper}")
    page.get_by_role("link", name="Delete", exact=True).click()
    page.get_by_text("Still receive messages for related objects").wait_for()
    shot(page, "delete-dialog")
    page.get_by_role("button", name="Delete", exact=True).click()
    page.wait_for_url(re.compile(r".*/contacts$"))
    page.get_by_text("The contact is deleted; its members keep it in their Message Centers.").wait_for()
    page.goto(f"{server.url}/members/{member}")
    assert page.locator("table.mc-readonly").get_by_text("keep-me@example.com").is_visible(), "kept as the member's own recipient"

    page.goto(f"{server.url}/contacts/{remover}/delete")
    page.get_by_label(re.compile("No longer receive messages")).check()
    page.get_by_role("button", name="Delete", exact=True).click()
    page.wait_for_url(f"**/contacts/{remover}")
    # The only Fault recipient of the member: the task ends with it as a fail reason.
    page.get_by_text(re.compile("The deletion of .* did not finish")).wait_for(timeout=20000)
    assert page.get_by_role("alert").get_by_role("link", name="delete member").get_attribute("href") == f"/members/{member}"
    shot(page, "delete-failed")
    status = sdk.get_message_contact_deletion_status(rdm.GetMessageContactDeletionStatusRequest(contact_id=remover)).body.contact_deletion_status
    assert status.status == "Failed" and status.fail_reason_list[0].account_id == member
    assert status.fail_reason_list[0].message_types == ["FaultMessage"]
