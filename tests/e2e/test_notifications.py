"""PublishNotification through the SDK's generic call: the real SMTP server receives
exactly each member's recipients of the type, once per address."""

from alibabacloud_resourcedirectorymaster20220419 import models as rdm

from rdc_support import publish, text_of
from test_bindings import active_contact


def test_a_notification_to_a_folder_reaches_exactly_its_members_recipients(sdk, smtp, page):
    folder = sdk.create_folder(rdm.CreateFolderRequest(folder_name="notify-folder")).body.folder.folder_id
    m1 = sdk.create_resource_account(rdm.CreateResourceAccountRequest(display_name="notify one", parent_folder_id=folder)).body.account.account_id
    m2 = sdk.create_resource_account(rdm.CreateResourceAccountRequest(display_name="notify two", parent_folder_id=folder)).body.account.account_id
    sdk.create_resource_account(rdm.CreateResourceAccountRequest(display_name="notify elsewhere"))
    ops = active_contact(sdk, smtp, page, "NotifyOps", "notify-ops@example.com", ["FaultMessage"])
    billing = active_contact(sdk, smtp, page, "NotifyBill", "notify-bill@example.com", ["AccountExpenses"])
    direct = active_contact(sdk, smtp, page, "NotifyTwo", "notify-two@example.com", ["FaultMessage"])
    sdk.associate_members(rdm.AssociateMembersRequest(contact_id=ops, members=[folder]))
    sdk.associate_members(rdm.AssociateMembersRequest(contact_id=billing, members=[folder]))
    sdk.associate_members(rdm.AssociateMembersRequest(contact_id=direct, members=[m2]))

    answer = publish(sdk, MessageType="FaultMessage", Subject="Disk array degraded", Content="Replace disk 3.", FolderId=folder)
    assert answer["statusCode"] == 200 and answer["body"]["Members"] == 2 and answer["body"]["NotificationId"]

    def got(m):
        return "Disk array degraded" in m["data"]
    smtp.wait_for(lambda m: got(m) and "notify-two@example.com" in m["to"])
    smtp.wait_for(lambda m: got(m) and "notify one" in m["data"])
    import time
    time.sleep(1)
    received = sorted((m["to"][0], "notify one" in m["data"]) for m in smtp.messages if got(m))
    assert received == [("notify-ops@example.com", False), ("notify-ops@example.com", True), ("notify-two@example.com", False)], received
    assert m1


def test_an_administrator_publishes_from_the_console_to_a_verified_contact(sdk, smtp, page, server):
    from conftest import shot
    from test_console import sign_in
    folder = sdk.create_folder(rdm.CreateFolderRequest(folder_name="console-notify")).body.folder.folder_id
    sdk.create_resource_account(rdm.CreateResourceAccountRequest(display_name="console notified", parent_folder_id=folder))
    contact = active_contact(sdk, smtp, page, "ConsoleOps", "console-ops@example.com", ["ServiceMessage"])
    sdk.associate_members(rdm.AssociateMembersRequest(contact_id=contact, members=[folder]))

    sign_in(page, server)
    page.goto(f"{server.url}/folders/{folder}")
    page.get_by_role("link", name="Publish a notification to this folder").click()
    page.get_by_label("Message type").select_option("ServiceMessage")
    page.get_by_label("Subject").fill("Contract renewal")
    page.get_by_label("Content").fill("Your contract renews on the 1st.\nNothing to do.")
    assert page.get_by_label("The members of a folder, and of the folders below it").is_checked()
    shot(page, "publish")
    page.get_by_role("button", name="Publish", exact=True).click()
    page.get_by_text("is published to 1 member").wait_for()
    received = smtp.wait_for(lambda m: "Contract renewal" in m["data"] and "console-ops@example.com" in m["to"])
    assert "Your contract renews on the 1st." in text_of(received[0])
    page.get_by_text("1 sent").wait_for(timeout=15000)
    assert "Nothing to do." in page.locator("pre.mail-text").inner_text()
