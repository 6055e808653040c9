"""Rule T2 under faults: slow SMTP with leases far shorter than the sending and two servers;
kill -9 in the middle of a bind, a removal and a notification; a sending job that gives up."""

import collections
import glob
import re
import time

import requests
from alibabacloud_resourcedirectorymaster20220419 import models as rdm

from conftest import demo_server, publish, subject_of, wait_for
from rdc_support import text_of

ACCOUNT = re.compile(r"\b(\d{16})\b")


def activate(sdk, smtp, name, address, types):
    """Adds a contact and confirms it through the link in its email, as its owner would."""
    cid = sdk.add_message_contact(rdm.AddMessageContactRequest(name=name, email_address=address, title="Other", message_types=types)).body.contact.contact_id
    message = wait_for("the verification email", lambda: [m for m in smtp.messages if address in m["to"]], timeout=30)[0]
    link = re.search(r"(http://127\.0\.0\.1:\d+/verify/[A-Za-z0-9_-]+)", text_of(message)).group(1)
    session = requests.Session()
    page = session.get(link)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert session.post(link, data={"csrf_token": token}).status_code == 200
    return cid


def received(smtp, subject):
    """(address, member) of every email of this notification the SMTP server received."""
    out = []
    for m in smtp.messages:
        if subject in subject_of(m):
            out.append((m["to"][0], ACCOUNT.search(text_of(m)).group(1)))
    return out


def delivery_log(database, notification):
    """Per delivery: (address, member) -> (status, outcomes of its attempts)."""
    rows = database.sql(
        "SELECT d.address, d.account_id, d.status, COALESCE(string_agg(a.outcome, ',' ORDER BY a.id), '') "
        f"FROM deliveries d LEFT JOIN delivery_attempts a ON a.delivery_id = d.id WHERE d.notification_id = {notification} "
        "GROUP BY d.id, d.address, d.account_id, d.status")
    return {(address, account): (status, [o for o in outcomes.split(",") if o]) for address, account, status, outcomes in rows}


def publish_part_way(sdk, smtp, subject, delay, at_least):
    """Publishes a security notification to the whole directory through an SMTP server that
    takes `delay` a message, and returns once `at_least` of its emails arrived."""
    smtp.delay = delay
    notification, _ = publish(sdk, MessageType="SecurityMessage", Subject=subject, Content="Check your account.")
    wait_for("part of the emails arrive", lambda: len(received(smtp, subject)) >= at_least, timeout=60)
    return notification


def finished(database, notification):
    return database.value(f"SELECT finished_at IS NOT NULL FROM notifications WHERE id = {notification}") == "t"


def job(database, kind):
    row = database.sql(f"SELECT id, status, progress_done, progress_total FROM jobs WHERE kind = '{kind}' ORDER BY id DESC LIMIT 1")
    if not row:
        return None
    id_, status, done, total = row[0]
    return {"id": int(id_), "status": status, "done": int(done), "total": int(total)}


def test_t2_two_servers_and_a_slow_smtp_server_send_each_recipient_exactly_one_email(database, smtp, servers):
    settings = dict(RDC_JOB_LEASE_SECS=1, RDC_WORKERS=2, RDC_SMTP_CONCURRENCY=8)
    first, sdk = demo_server(servers, 20, 2000, **settings)
    second = servers(**settings).start()
    # About 1,800 recipients at 30 ms a message, 8 at a time: about 7 s, seven lease lengths.
    smtp.delay = 0.03
    notification, members = publish(sdk, MessageType="SecurityMessage", Subject="Chaos: two servers", Content="Check your account.")
    assert members == 2000
    wait_for("the notification is sent", lambda: finished(database, notification), timeout=180, every=0.5)
    log = delivery_log(database, notification)
    got = collections.Counter(received(smtp, "Chaos: two servers"))
    assert len(log) > 1700
    twice = {k: n for k, n in got.items() if n > 1}
    assert not twice, f"{len(twice)} recipients got more than one email: {list(twice.items())[:5]}"
    assert set(got) == set(log), "the SMTP server received exactly the deliveries"
    assert all(status == "sent" and outcomes == ["sent"] for status, outcomes in log.values()), "the log shows one sent attempt each"
    for server in (first, second):
        logs = "".join(open(f).read() for f in glob.glob(f"{server.data_dir}/server-{server.port}-*.log"))
        assert "deadlock" not in logs


def test_t2_kill_9_during_a_bind_and_a_removal_of_20000_members_resumes_within_15_s_and_ends_right(database, smtp, servers):
    server, sdk = demo_server(servers, 200, 20000, RDC_PROPAGATION_BATCH=250, RDC_WORKERS=2)
    contact = activate(sdk, smtp, "ChaosBind", "chaos-bind@example.com", ["SecurityMessage"])
    root = sdk.get_resource_directory().body.resource_directory.root_folder_id
    members = int(database.value("SELECT COUNT(*) FROM accounts WHERE removed_at IS NULL"))
    assert members == 20000

    def kill_mid(kind):
        """kill -9 once the job is part way; restart; returns seconds until it went on."""
        state = wait_for(f"{kind} part way", lambda: (j := job(database, kind)) and 0 < j["done"] < j["total"] and j, timeout=60, every=0.02)
        server.kill()
        stopped_at = job(database, kind)["done"]
        assert stopped_at < state["total"], "killed before the end"
        restarted = time.time()
        server.start()
        wait_for(f"{kind} goes on", lambda: (j := job(database, kind))["done"] > stopped_at or j["status"] == "done", timeout=30, every=0.1)
        resumed = time.time() - restarted
        wait_for(f"{kind} finishes", lambda: job(database, kind)["status"] == "done", timeout=120, every=0.2)
        return resumed

    sdk.associate_members(rdm.AssociateMembersRequest(contact_id=contact, members=[root]))
    resumed = kill_mid("bind_members")
    assert resumed <= 15, f"the bind went on {resumed:.1f} s after the restart"
    assert int(database.value(f"SELECT COUNT(*) FROM associations WHERE contact_id = '{contact}'")) == members

    # Members without a recipient of their own keep the contact (rule U2): the removal's fail reasons.
    lonely = int(database.value("SELECT COUNT(*) FROM accounts m WHERE m.removed_at IS NULL AND NOT EXISTS (SELECT 1 FROM mc_recipients r WHERE r.account_id = m.id)"))
    assert 0 < lonely < members
    assert sdk.delete_message_contact(rdm.DeleteMessageContactRequest(contact_id=contact, retain_contact_in_members=False)).body.status == "Deleting"
    resumed = kill_mid("delete_contact")
    assert resumed <= 15, f"the removal went on {resumed:.1f} s after the restart"
    assert int(database.value(f"SELECT COUNT(*) FROM associations WHERE contact_id = '{contact}'")) == lonely
    assert database.value(f"SELECT status FROM contacts WHERE id = '{contact}'") == "Active"
    status = sdk.get_message_contact_deletion_status(rdm.GetMessageContactDeletionStatusRequest(contact_id=contact)).body.contact_deletion_status
    assert status.status == "Failed" and len(status.fail_reason_list) == min(lonely, 1000)


def test_t2_kill_9_while_a_notification_is_sent_repeats_at_most_the_emails_in_flight(database, smtp, servers):
    concurrency = 8
    server, sdk = demo_server(servers, 20, 3000, RDC_SMTP_CONCURRENCY=concurrency, RDC_WORKERS=2)
    notification = publish_part_way(sdk, smtp, "Chaos: kill -9", delay=0.01, at_least=300)
    server.kill()
    time.sleep(0.5)  # what was already on the wire lands first
    before = len(received(smtp, "Chaos: kill -9"))
    restarted = time.time()
    server.start()
    wait_for("sending goes on", lambda: len(received(smtp, "Chaos: kill -9")) > before, timeout=30, every=0.1)
    assert time.time() - restarted <= 15, "sending went on within 15 s of the restart"
    wait_for("the notification is sent", lambda: finished(database, notification), timeout=180, every=0.5)
    log = delivery_log(database, notification)
    got = collections.Counter(received(smtp, "Chaos: kill -9"))
    assert set(got) == set(log), "every delivery arrived, and nothing else"
    assert all(status == "sent" for status, _ in log.values())
    duplicates = sum(n - 1 for n in got.values())
    # In flight at the kill: the emails being sent, and those sent whose outcome was not written yet.
    assert duplicates <= 2 * concurrency, f"{duplicates} duplicates"
    for key, n in got.items():
        status, outcomes = log[key]
        assert outcomes.count("sent") == 1, (key, outcomes)
        # Each email the server got is an attempt of the log: sent, or interrupted by the kill.
        assert n <= outcomes.count("sent") + outcomes.count("interrupted"), (key, n, outcomes)


def test_t2_a_sending_job_that_gives_up_leaves_no_delivery_pending(database, smtp, servers):
    server, sdk = demo_server(servers, 10, 600, RDC_JOB_MAX_ATTEMPTS=1, RDC_SMTP_CONCURRENCY=4, RDC_JOB_LEASE_SECS=2, RDC_WORKERS=2)
    notification = publish_part_way(sdk, smtp, "Chaos: given up", delay=0.02, at_least=50)
    # The job's one attempt dies with its server: it is given up, not left waiting.
    server.kill()
    server.start()
    wait_for("the notification is finished", lambda: finished(database, notification), timeout=60, every=0.2)
    counts = dict(database.sql(f"SELECT status, COUNT(*) FROM deliveries WHERE notification_id = {notification} GROUP BY status"))
    assert set(counts) <= {"sent", "failed"}, counts
    failed = int(counts.get("failed", 0))
    assert failed > 0
    assert database.value(f"SELECT gave_up FROM notifications WHERE id = {notification}")
    session = requests.Session()
    login = session.get(server.url + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    assert session.post(server.url + "/login", data={"csrf_token": token, "username": "admin", "password": server.password}).ok
    page = session.get(f"{server.url}/notifications?notification={notification}").text
    assert f"{failed} failed" in page and "Stopped early" in page
