"""Every page of the console and every side panel, as an administrator, a member user and a
contact's owner see them, at 1440 and at 390 pixels: axe-core finds no serious or
critical violation, nothing scrolls sideways, and a screenshot of each lands in
artifacts/ (named after the width and the page)."""

import re

import pytest
from alibabacloud_resourcedirectorymaster20220419 import models as rdm

from conftest import DESKTOP, PHONE, audit
from rdc_support import publish, text_of
from test_bindings import active_contact


def sign_in_as(page, server, user, password):
    page.goto(server.url + "/login")
    page.get_by_label(re.compile("User name")).fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()


def invite(page, server, smtp, member, address):
    page.goto(f"{server.url}/members/{member}")
    page.get_by_label("Invite a member user by email").fill(address)
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("An invitation is on its way").wait_for()
    return re.search(r"(http://\S+/invite/[A-Za-z0-9_-]+)", text_of(smtp.wait_for(lambda m: address in m["to"])[0])).group(1)


@pytest.fixture(scope="module")
def tour(sdk, smtp, server, browser):
    """A small directory with a bound contact, a waiting one, a notification, a member user
    who signed up and an invitation still open, built once for every page of the tour."""
    ops = sdk.create_folder(rdm.CreateFolderRequest(folder_name="tour-ops")).body.folder.folder_id
    db = sdk.create_folder(rdm.CreateFolderRequest(folder_name="tour-db", parent_folder_id=ops)).body.folder.folder_id
    member = sdk.create_resource_account(rdm.CreateResourceAccountRequest(display_name="Tour member", parent_folder_id=db)).body.account.account_id
    other = sdk.create_resource_account(rdm.CreateResourceAccountRequest(display_name="Tour other", parent_folder_id=db)).body.account.account_id
    sdk.tag_resources(rdm.TagResourcesRequest(resource_type="Account", resource_id=[member], tag=[
        rdm.TagResourcesRequestTag(key="env", value="production"), rdm.TagResourcesRequestTag(key="cost-center", value="a-rather-long-cost-center-value-42")]))
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    alice = active_contact(sdk, smtp, page, "TourAlice", "tour-alice@example.com", ["SecurityMessage", "FaultMessage"])
    bob = sdk.add_message_contact(rdm.AddMessageContactRequest(
        name="TourBob", email_address="tour-bob-has-a-rather-long-address@example-with-a-long-domain.com",
        title="TechnicalDirector", message_types=["ProductMessage"])).body.contact.contact_id
    bob_link = re.search(r"(http://\S+/verify/[A-Za-z0-9_-]+)", text_of(smtp.wait_for(lambda m: "tour-bob" in m["to"][0])[0])).group(1)
    sdk.associate_members(rdm.AssociateMembersRequest(contact_id=alice, members=[ops]))
    notification = publish(sdk, MessageType="SecurityMessage", Subject="Tour notice", Content="A notification for the tour.")["body"]["NotificationId"]

    sign_in_as(page, server, "admin", server.admin_password)
    accepted = invite(page, server, smtp, member, "tour-user@example.com")
    waiting = invite(page, server, smtp, other, "tour-waiting@example.com")
    page.get_by_role("button", name="Sign out").click()
    page.goto(accepted)
    page.get_by_label("New password").fill(MEMBER_PASSWORD)
    page.get_by_label("Repeat the password").fill(MEMBER_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_url("**/my/message-center")
    context.close()
    return {"ops": ops, "db": db, "member": member, "alice": alice, "bob": bob, "bob_link": bob_link, "invite": waiting, "notification": notification}


MEMBER_PASSWORD = "Tide-lantern-91-quartz"


def root_folder(page, server):
    page.goto(server.url + "/directory")
    return re.search(r"/folders/(r-\w+)", page.content()).group(1)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_every_administrator_page_and_panel_is_accessible_and_fits(browser, server, tour, viewport):
    context = browser.new_context(viewport=viewport, bypass_csp=True)
    page = context.new_page()
    problems = []
    page.goto(server.url + "/login")
    problems += audit(page, "login")
    sign_in_as(page, server, "admin", server.admin_password)
    root = root_folder(page, server)
    pages = {
        "directory": "/directory",
        "folder-root": f"/folders/{root}",
        "folder": f"/folders/{tour['ops']}",
        "member": f"/members/{tour['member']}",
        "contacts": "/contacts",
        "contacts-filtered": "/contacts?status=Active&type=SecurityMessage",
        "contact": f"/contacts/{tour['alice']}",
        "contact-waiting": f"/contacts/{tour['bob']}",
        "contact-members": f"/contacts/{tour['alice']}/members",
        "contact-delete": f"/contacts/{tour['bob']}/delete",
        "notifications": "/notifications",
        "notification": f"/notifications?notification={tour['notification']}",
        "publish": "/notifications/new",
        "import": "/directory/import",
        "directory-sync": "/directory/sync",
        "directory-search": "/directory?q=tour",
        "directory-tagged": "/directory?tag=env%3Dproduction",
        "folder-selected": f"/directory?folder={tour['db']}",
        "tasks-filtered": "/jobs?status=done",
        "bind-page": f"/contacts/{tour['alice']}/bind?open={tour['db']}&q=Tour",
        "tasks": "/jobs",
        "outbox": "/outbox",
        "audit-log": "/audit",
        "coverage": "/coverage",
        "coverage-members": "/coverage/members?type=SecurityMessage",
        "audit-log-filtered": f"/audit?target={tour['alice']}",
        "settings": "/settings/quotas",
        "settings-admins": "/settings/administrators",
        "settings-keys": "/settings/access-keys",
        "password": "/password",
        "not-found": "/contacts/c-nothere",
    }
    for name, path in pages.items():
        page.goto(server.url + path)
        problems += audit(page, name)

    page.goto(server.url + "/directory/import")
    page.get_by_label("Folders and members").fill("bad folder name\nops, Member, not-an-address")
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text("Nothing was imported").wait_for()
    problems += audit(page, "import-errors")

    page.goto(server.url + "/directory/sync")
    page.get_by_label("The file's text").fill("folder_path,account_id,display_name,security_email\ntour-sync,,Tour sync member,\n")
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("heading", name="Preview").wait_for()
    problems += audit(page, "directory-sync-preview")
    page.goto(server.url + "/directory/sync")
    page.get_by_label("The file's text").fill("name,email\n")
    page.get_by_role("button", name="Preview").click()
    page.get_by_text("Nothing was changed").wait_for()
    problems += audit(page, "directory-sync-errors")

    page.goto(f"{server.url}/members/{tour['member']}")
    page.get_by_label("Key", exact=True).fill("acs:reserved")
    page.get_by_role("button", name="Add tag").click()
    page.locator("#tag-error").wait_for()
    problems += audit(page, "member-tag-error")

    page.goto(server.url + "/contacts")
    page.get_by_role("link", name="Create Contact").first.click()
    page.locator("#panel [role=dialog], #panel dialog, #panel .panel").first.wait_for()
    problems += audit(page, "panel-create")
    page.goto(f"{server.url}/contacts/{tour['alice']}")
    page.get_by_role("link", name="Modify").first.click()
    page.locator("#panel .panel").first.wait_for()
    problems += audit(page, "panel-modify")
    page.goto(f"{server.url}/contacts/{tour['alice']}")
    page.get_by_role("link", name="Bind", exact=True).click()
    page.locator("#panel .panel").first.wait_for()
    problems += audit(page, "panel-bind")
    context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_every_public_and_member_page_is_accessible_and_fits(browser, server, tour, viewport):
    context = browser.new_context(viewport=viewport, bypass_csp=True)
    page = context.new_page()
    problems = []
    for name, url in {"verify": tour["bob_link"], "verify-invalid": server.url + "/verify/not-a-token",
                      "invite": tour["invite"], "invite-invalid": server.url + "/invite/not-a-token",
                      "confirm-invalid": server.url + "/confirm/not-a-token"}.items():
        page.goto(url)
        problems += audit(page, name)
    sign_in_as(page, server, "tour-user@example.com", MEMBER_PASSWORD)
    page.wait_for_url("**/my/message-center")
    page.goto(server.url + "/")
    page.wait_for_url("**/my/message-center")
    problems += audit(page, "message-center")
    page.goto(server.url + "/directory")
    problems += audit(page, "member-not-found")
    page.goto(server.url + "/password")
    problems += audit(page, "member-password")
    context.close()
    assert not problems, "\n".join(problems)
