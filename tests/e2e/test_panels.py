"""The side panels as an administrator uses them in Chromium: Select Objects (member
search, a folder opened on demand, the Selected list kept across searches and refusals),
and the panels as dialogs (focus in, trapped, back out; errors that go once fixed)."""

import re

from alibabacloud_resourcedirectorymaster20220419 import models as rdm
from playwright.sync_api import expect

from conftest import shot
from test_bindings import active_contact
from test_console import sign_in


def focused_in_panel(page):
    return page.evaluate("!!document.activeElement.closest('#panel')")


def test_select_objects_finds_a_member_keeps_the_selection_and_binds_one_member(sdk, smtp, page, server):
    outer = sdk.create_folder(rdm.CreateFolderRequest(folder_name="pick-outer")).body.folder.folder_id
    inner = sdk.create_folder(rdm.CreateFolderRequest(folder_name="pick-inner", parent_folder_id=outer)).body.folder.folder_id
    sdk.create_folder(rdm.CreateFolderRequest(folder_name="pick-deep", parent_folder_id=inner))
    wanted = sdk.create_resource_account(rdm.CreateResourceAccountRequest(display_name="Picked member", parent_folder_id=inner)).body.account.account_id
    sdk.create_resource_account(rdm.CreateResourceAccountRequest(display_name="Other pickable", parent_folder_id=outer))
    contact = active_contact(sdk, smtp, page, "PickOne", "pick-one@example.com", ["SecurityMessage"])

    sign_in(page, server)
    page.goto(f"{server.url}/contacts/{contact}")
    opener = page.locator("#scope").get_by_role("link", name="Bind", exact=True)
    opener.click()
    panel = page.get_by_role("dialog", name="Select Objects")
    panel.wait_for()
    assert focused_in_panel(page), "focus moves into the panel"
    assert page.locator("main").evaluate("m => m.inert"), "the page behind is inactive"

    panel.get_by_label("Find members").fill("Picked")
    panel.get_by_label("Find members").press("Enter")
    panel.get_by_text("Members found for “Picked”").wait_for()
    panel.locator(f'input[data-pick][value="{wanted}"]').check()
    selected = panel.locator("#selected-list")
    assert "Picked member" in selected.inner_text()
    assert panel.get_by_role("heading", name="Selected (1/10)").is_visible()

    # Another search replaces the results, not the selection.
    panel.get_by_label("Find members").fill("pickable")
    panel.get_by_label("Find members").press("Enter")
    panel.get_by_text("Members found for “pickable”").wait_for()
    assert "Picked member" in selected.inner_text()

    # A folder opens on demand; ticking and unticking it in the Selected list.
    panel.get_by_role("link", name="Folders in pick-outer").click()
    panel.get_by_role("link", name="Folders in pick-inner").click()
    deep = panel.locator("input[data-pick][data-label='pick-deep']")
    deep.check()
    assert panel.get_by_role("heading", name="Selected (2/10)").is_visible()
    selected.get_by_label("pick-deep").click()  # unticked there, it leaves the list
    assert not deep.is_checked() and panel.get_by_role("heading", name="Selected (1/10)").is_visible()
    shot(page, "select-objects-search")

    panel.get_by_role("button", name="OK", exact=True).click()
    page.wait_for_url(f"**/contacts/{contact}")
    assert page.locator(".flash").inner_text().startswith("PickOne is bound to 1 object.")
    assert page.locator("#scope").get_by_text("Picked member").first.is_visible()
    assert sdk.get_message_contact(rdm.GetMessageContactRequest(contact_id=contact)).body.contact.members == [wanted]


def test_a_refused_bind_shows_why_in_the_panel_with_the_selection_kept(sdk, smtp, page, server):
    folders = [sdk.create_folder(rdm.CreateFolderRequest(folder_name=f"full-{i}")).body.folder.folder_id for i in range(11)]
    contact = active_contact(sdk, smtp, page, "NearlyFull", "nearly-full@example.com", ["FaultMessage"])
    for chunk in (folders[:5], folders[5:9]):
        sdk.associate_members(rdm.AssociateMembersRequest(contact_id=contact, members=chunk))
    sign_in(page, server)
    page.goto(f"{server.url}/contacts/{contact}")
    page.locator("#scope").get_by_role("link", name="Bind", exact=True).click()
    panel = page.get_by_role("dialog", name="Select Objects")
    panel.wait_for()
    for f in folders[9:]:
        panel.locator(f'input[data-pick][value="{f}"]').check()
    assert panel.get_by_text("At most 10 objects: untick some before OK.").is_visible()
    panel.get_by_role("button", name="OK", exact=True).click()
    panel.get_by_role("alert").wait_for()
    assert "at most 10" in panel.get_by_role("alert").inner_text()
    assert focused_in_panel(page) and page.evaluate("document.activeElement.id") == "bind-error"
    kept = panel.locator("#selected-list")
    assert "full-9" in kept.inner_text() and "full-10" in kept.inner_text(), "the selection survives the refusal"


def test_panels_are_dialogs_and_errors_go_once_fixed(page, server):
    sign_in(page, server)
    page.goto(server.url + "/contacts")
    opener = page.get_by_role("link", name="Create Contact")
    opener.click()
    panel = page.get_by_role("dialog", name="Create Contact")
    panel.wait_for()
    assert page.evaluate("document.activeElement.id") == "contact-name"
    # Tab stays inside the dialog.
    for _ in range(25):
        page.keyboard.press("Tab")
        assert focused_in_panel(page)
    # A refused submit puts the focus on the first field in error; editing it clears it.
    panel.get_by_label("Contact Name").fill("Tom Lee")
    panel.get_by_label("Email Address").fill("tom.example.com")
    panel.get_by_role("button", name="OK", exact=True).click()
    panel.locator("#contact-name-error").wait_for()
    assert "spaces are not allowed" in panel.locator("#contact-name-error").inner_text()
    assert "it needs an @" in panel.locator("#contact-email-error").inner_text()
    assert page.evaluate("document.activeElement.id") == "contact-name"
    page.keyboard.type("x")
    assert panel.locator("#contact-name-error").count() == 0
    assert panel.get_by_label("Contact Name").get_attribute("aria-invalid") is None
    assert panel.locator("#contact-email-error").count() == 1, "the other field's error stays until it is edited"
    # Escape closes the dialog and gives the focus back to what opened it.
    page.keyboard.press("Escape")
    assert page.locator("#panel").inner_html() == ""
    assert page.evaluate("document.activeElement.textContent") == "Create Contact"
    assert not page.locator("main").evaluate("m => m.inert")


def test_a_message_center_row_keeps_the_focus_and_what_is_typed_while_it_saves(sdk, smtp, page, server):
    from rdc_support import text_of
    folder = sdk.create_folder(rdm.CreateFolderRequest(folder_name="focus-folder")).body.folder.folder_id
    member = sdk.create_resource_account(rdm.CreateResourceAccountRequest(
        display_name="focus member", parent_folder_id=folder, )).body.account.account_id
    sign_in(page, server)
    page.goto(f"{server.url}/members/{member}")
    page.get_by_label("Invite a member user by email").fill("focus-user@example.com")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("An invitation is on its way").wait_for()
    invite = re.search(r"(http://\S+/invite/[A-Za-z0-9_-]+)", text_of(smtp.wait_for(lambda m: "focus-user@example.com" in m["to"])[0])).group(1)
    page.get_by_role("button", name="Sign out").click()
    page.goto(invite)
    page.get_by_label("New password").fill("Tide-lantern-91-quartz")
    page.get_by_label("Repeat the password").fill("Tide-lantern-91-quartz")
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_url("**/my/message-center")
    assert page.locator("#uncovered").is_visible(), "nobody receives anything yet"

    page.get_by_label("Name", exact=True).fill("Night shift")
    page.get_by_label("Email", exact=True).fill("night@example.com")
    page.locator("form.card").get_by_label("Security").check()
    page.get_by_role("button", name="Add recipient").click()
    page.get_by_text("is added").wait_for()
    row = page.locator("form.mc-row.own")
    # Tick a type: the row saves itself and says so; the notice of what nobody receives follows.
    row.get_by_label("Fault for Night shift").check()
    row.locator(".saved").wait_for()
    assert page.locator("#live").inner_text() == "Saved Night shift."
    # Rename, leave the field and type at once into the next one: nothing is lost.
    name = row.get_by_label("Name of recipient Night shift")
    name.fill("Day shift")
    page.keyboard.press("Tab")
    page.keyboard.type("x")
    # Playwright's own waits: a wait_for_function predicate that is not true at once is
    # polled with eval, which the page's Content-Security-Policy refuses.
    page.locator("form.mc-row.own .saved").wait_for(state="attached")
    expect(page.locator("#live")).to_have_text("Saved Day shift.", timeout=30_000)
    email = page.locator("form.mc-row.own input[name=email]")
    # (Tab selected the address, so the keystroke replaced it, as in any form.)
    assert email.input_value() == "x", "the keystroke typed while the row saved is kept"
    assert page.evaluate("document.activeElement.name") == "email", "the focus stays where it was"
