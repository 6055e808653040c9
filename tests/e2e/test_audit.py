"""The audit trail end to end: an administrator changes a contact in Chromium, the SDK's
generic call lists the change with the administrator as its actor, and the CSV export
reads in Python's csv module with the same rows."""

import csv
import io

from alibabacloud_resourcedirectorymaster20220419 import models as rdm

from rdc_support import call
from test_bindings import active_contact
from test_console import sign_in


def test_a_change_in_the_browser_is_listed_by_the_api_and_exported_as_the_same_csv_rows(sdk, smtp, page, server):
    contact = active_contact(sdk, smtp, page, "AuditTom", "audit-tom@example.com", ["FaultMessage"])
    sign_in(page, server)
    page.goto(f"{server.url}/contacts/{contact}/edit")
    page.get_by_label("Title").select_option("CEO")
    page.get_by_role("button", name="OK").click()
    page.wait_for_url(f"**/contacts/{contact}")

    listed = call(sdk, "ListAuditEvents", TargetId=contact, EventAction="contact.update")["body"]["AuditEvents"]
    assert len(listed) == 1, listed
    change = listed[0]
    assert (change["ActorType"], change["Actor"], change["Via"]) == ("admin", "admin", "console")
    assert {"Field": "title", "Before": "Other", "After": "CEO"} in change["Changes"]

    # The contact's page shows it in its History.
    history = page.locator("section[aria-labelledby=history-heading]")
    assert history.get_by_text("contact.update").is_visible()
    assert history.get_by_text("CEO").first.is_visible()

    everything = call(sdk, "ListAuditEvents", TargetId=contact, MaxResults="100")["body"]["AuditEvents"]
    assert [e["Action"] for e in reversed(everything)] == ["contact.create", "contact.verify", "contact.update"]
    exported = page.request.get(f"{server.url}/audit.csv?target={contact}")
    assert exported.ok and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text())))
    assert [r["event_id"] for r in rows] == [e["EventId"] for e in everything]
    assert [(r["action"], r["actor"], r["actor_type"]) for r in rows] == [(e["Action"], e["Actor"], e["ActorType"]) for e in everything]
    assert rows[0]["target_id"] == contact

    # The Audit log page filters to the same entries.
    page.goto(f"{server.url}/audit")
    page.get_by_label("Target id").fill(contact)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/audit?*")
    assert page.locator("table.audit tbody tr").count() == 3
    # The directory's contact quota is shared by the whole suite: give this one back.
    sdk.delete_message_contact(rdm.DeleteMessageContactRequest(contact_id=contact))


def test_audit_verify_on_the_command_line_walks_the_live_servers_chain(server, sdk):
    """`rd-contacts audit verify` against the database the server writes to, while it serves."""
    sdk.create_folder(rdm.CreateFolderRequest(folder_name="audit-verify"))
    out = server.cli("audit", "verify")
    assert out.startswith("The audit trail holds:"), out
    checked = int(out.split(": ")[1].split(" ")[0])
    assert checked > 0, out
