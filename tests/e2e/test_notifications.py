"""PublishNotification through the SDK's generic call: the real SMTP server receives
exactly each member's recipients of the type, once per address."""

from alibabacloud_resourcedirectorymaster20220419 import models as rdm

from rdc_support import publish
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
