"""An administrator in Chromium: sign in, build a tree, move, remove, delete; and email
through the real SMTP server."""

import os
import re

from conftest import shot


def sign_in(page, server):
    page.goto(server.url + "/directory")
    assert "/login" in page.url
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert page.get_by_text("The user name or password is not correct").is_visible()
    page.get_by_label("Password").fill(server.admin_password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/directory")


def open_root_folder(page):
    """From the directory's overview (or its empty state) to the root folder's page."""
    page.locator('main a[href^="/folders/r-"]').first.click()


def test_an_administrator_builds_and_changes_a_tree(page, server):
    page.goto(server.url + "/login")
    shot(page, "login")
    sign_in(page, server)
    open_root_folder(page)
    page.wait_for_url(re.compile(r".*/folders/r-\w{6}$"))
    root_url = page.url

    # A bad name comes back with its message next to the field, input kept.
    page.get_by_label("New folder").fill("no spaces allowed")
    page.get_by_role("button", name="Create folder", exact=True).click()
    assert page.locator("#new-folder-error").inner_text().startswith("The folder name may contain")
    assert page.get_by_label("New folder").input_value() == "no spaces allowed"

    page.get_by_label("New folder").fill("browser-a")
    page.get_by_role("button", name="Create folder", exact=True).click()
    page.wait_for_url(re.compile(r".*/folders/fd-\w{10}$"))
    assert page.get_by_role("status").filter(has_text="created").inner_text() == "The folder browser-a is created."
    folder_a = page.url
    page.get_by_label("New folder").fill("browser-c")
    page.get_by_role("button", name="Create folder", exact=True).click()
    page.wait_for_url(re.compile(r".*/folders/fd-\w{10}$"))
    page.goto(root_url)
    page.get_by_label("New folder").fill("browser-b")
    page.get_by_role("button", name="Create folder", exact=True).click()
    page.wait_for_url(re.compile(r".*/folders/fd-\w{10}$"))
    folder_b_id = page.url.rsplit("/", 1)[1]

    page.goto(folder_a)
    page.get_by_label("Display name").fill("Browser member")
    page.get_by_label("Security email").fill("owner@example.com")
    page.get_by_role("button", name="Create member", exact=True).click()
    page.wait_for_url(re.compile(r".*/members/\d{16}$"))
    member_url = page.url
    assert page.locator(".flash").inner_text() == "The member Browser member is created."
    shot(page, "member")

    page.get_by_label("Destination folder").select_option(folder_b_id)
    page.get_by_role("button", name="Move member", exact=True).click()
    page.wait_for_url(member_url)
    assert "browser-b" in page.locator("dl.facts").inner_text()
    assert page.locator(".flash").inner_text().startswith("Browser member is moved to")
    page.reload()
    assert page.locator(".flash").count() == 0, "a notice is said once"

    # The tree is one Tab stop; arrows move through it and open folders on demand.
    page.goto(server.url + "/directory")
    tree = page.get_by_role("tree")
    assert tree.locator('[tabindex="0"]').count() == 1
    page.get_by_role("navigation", name="Resource directory").get_by_role("link", name="Contacts").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('role')") == "treeitem"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Folder details, contacts and management →", "one Tab stop for the tree"
    # (Other tests share this directory: go to browser-a directly.)
    tree.get_by_role("treeitem", name="browser-a").focus()
    assert tree.get_by_role("treeitem", name="browser-c").count() == 0, "not fetched yet"
    page.keyboard.press("ArrowRight")
    tree.get_by_role("treeitem", name="browser-c").wait_for()
    page.keyboard.press("ArrowLeft")
    assert not tree.get_by_role("treeitem", name="browser-c").is_visible()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.querySelector('a').textContent") == "browser-c"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/directory?folder={folder_b_id}")
    page.get_by_role("link", name="Browser member").wait_for()
    assert "Root / browser-b" in page.get_by_role("region", name="Members").inner_text()
    shot(page, "overview")
    # Back: the folders this tab opened are open again.
    page.go_back()
    tree.get_by_role("treeitem", name="browser-c").wait_for()

    # Deleting a folder that still has a member is refused with the reason.
    page.goto(server.url + f"/folders/{folder_b_id}")
    assert page.get_by_role("button", name="Delete folder", exact=True).is_disabled()
    shot(page, "folder")

    page.goto(member_url)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove member", exact=True).click()
    page.get_by_text("was removed from the resource directory").wait_for()
    assert page.locator(".flash").inner_text() == "Browser member is removed from the resource directory. Its record is kept."

    page.goto(server.url + f"/folders/{folder_b_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete folder", exact=True).click()
    page.wait_for_url(root_url)
    assert page.locator(".flash").inner_text() == "The folder browser-b is deleted."
    # Gone from the page, except from the root's History, which tells of it.
    outside_history = page.evaluate("""() => {
        const main = document.querySelector('#main').cloneNode(true);
        main.querySelector('section[aria-labelledby=history-heading]').remove();
        return main.innerText; }""")
    assert "browser-b" not in outside_history.replace("The folder browser-b is deleted.", "")
    assert "folder.delete" in page.locator("section[aria-labelledby=history-heading]").inner_text()


def test_cancelling_the_confirmation_keeps_the_folder(page, server):
    sign_in(page, server)
    page.goto(server.url + "/directory")
    open_root_folder(page)
    page.get_by_label("New folder").fill("keep-me")
    page.get_by_role("button", name="Create folder", exact=True).click()
    page.wait_for_url(re.compile(r".*/folders/fd-\w{10}$"))
    url = page.url
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete folder", exact=True).click()
    page.wait_for_timeout(300)
    assert page.url == url
    page.reload()
    assert page.get_by_role("heading", name="keep-me").is_visible()


def test_a_test_email_reaches_the_smtp_server(page, server, smtp):
    sign_in(page, server)
    page.goto(server.url + "/outbox")
    page.get_by_label("Send a test email to").fill("e2e-check@example.com")
    page.get_by_role("button", name="Send test email", exact=True).click()
    page.get_by_text("A test email is on its way").wait_for()
    shot(page, "outbox")
    received = smtp.wait_for(lambda m: "e2e-check@example.com" in m["to"])
    assert "rd-contacts test email" in received[0]["data"]
    page.goto(server.url + "/jobs")
    page.get_by_role("cell", name="Sending an email").first.wait_for()
    shot(page, "tasks")


def test_a_search_shows_its_first_page_at_once_and_then_how_many_match(page, server, sdk):
    """A word 205 members share: on PostgreSQL the first page comes before its members are
    counted (more than 200 found, the first of them in order) and the page's script asks for
    the count; on either database the administrator ends with the count and the pager."""
    from alibabacloud_resourcedirectorymaster20220419 import models as rdm
    folder = sdk.create_folder(rdm.CreateFolderRequest(folder_name="tally")).body.folder
    for i in range(205):
        sdk.create_resource_account(rdm.CreateResourceAccountRequest(
            display_name=f"Tally {i:03}", parent_folder_id=folder.folder_id, account_name_prefix=f"tally{i}"))
    sign_in(page, server)
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "count=wait" in r.url else None)
    page.goto(server.url + "/directory?q=tally")
    page.get_by_role("heading", name="Members (205)").wait_for()
    assert page.get_by_text("Page 1 of 11 (205)").is_visible()
    assert page.locator("#member-results[aria-busy]").count() == 0 and page.get_by_text("counting").count() == 0
    assert page.get_by_role("link", name="Tally 000").is_visible()
    postgres = os.environ.get("E2E_DATABASE_URL", "").startswith("postgres")
    assert len(asked) == (1 if postgres else 0), asked
