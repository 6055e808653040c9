"""Dead addresses end to end: the real SMTP server answers 550 for a member's security
email; the address is marked bouncing, the next notification to it is skipped, and the
Coverage page shows the member's gap and why."""

from alibabacloud_resourcedirectorymaster20220419 import models as rdm

from rdc_support import call, publish
from test_console import sign_in


def test_a_550_marks_the_address_bouncing_and_the_coverage_page_shows_the_gap(sdk, smtp, page, server):
    folder = sdk.create_folder(rdm.CreateFolderRequest(folder_name="bounce-folder")).body.folder.folder_id
    sign_in(page, server)
    # A member whose security email, its recipient of every type (rule M4), is a dead mailbox.
    page.goto(f"{server.url}/folders/{folder}")
    page.get_by_label("Display name").fill("bounce member")
    page.get_by_label("Security email").fill("ops-bounce@example.com")
    page.get_by_role("button", name="Create member").click()
    page.wait_for_url("**/members/*")
    member = page.url.rsplit("/", 1)[1]

    first = publish(sdk, MessageType="SecurityMessage", Subject="Key rotated", Content="Rotate your keys.", AccountId=member)
    notification = first["body"]["NotificationId"]
    page.goto(f"{server.url}/notifications?notification={notification}")
    page.get_by_text("1 failed").wait_for(timeout=15000)

    second = publish(sdk, MessageType="SecurityMessage", Subject="Key rotated again", Content="Rotate again.", AccountId=member)["body"]["NotificationId"]
    page.goto(f"{server.url}/notifications?notification={second}")
    page.get_by_text("1 skipped (bouncing)").wait_for(timeout=15000)
    assert not any("ops-bounce@example.com" in m["to"] for m in smtp.messages), "the server never took it"

    page.goto(f"{server.url}/coverage?folder={folder}")
    cell = page.locator("table.heat tbody tr").first
    assert "1" in cell.inner_text()
    page.goto(f"{server.url}/coverage/members?folder={folder}&type=SecurityMessage")
    assert page.get_by_text("only addresses that bounce").first.is_visible()
    gaps = call(sdk, "ListCoverageGaps", FolderId=folder, MessageType="SecurityMessage")["body"]["Gaps"]
    assert [(g["AccountId"], g["Reason"]) for g in gaps] == [(member, "OnlyBouncingAddresses")]
