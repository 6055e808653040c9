"""A server you can watch and keep, from the outside: its probes while the workers run,
and the backup commands against the database the live server uses."""

import json
import os
import re
import subprocess
import tempfile
import urllib.error
import urllib.request

from playwright.sync_api import expect

from rdc_support import binary


def test_readyz_is_ready_with_the_servers_workers_running(server):
    with urllib.request.urlopen(server.url + "/readyz") as resp:
        assert resp.status == 200
        body = json.load(resp)
    assert body["status"] == "ready" and body["database"] == "ok"
    assert body["workers"].endswith("running"), body
    with urllib.request.urlopen(server.url + "/healthz") as resp:
        assert resp.read().strip() == b"ok"


def test_backup_runs_beside_the_live_server_and_restore_waits_for_it_to_stop(server):
    target = os.path.join(tempfile.mkdtemp(prefix="rdc-backup-"), "backup.db")
    backup = subprocess.run([binary(), "backup", target], env=server.env, capture_output=True, text=True)
    if os.environ.get("E2E_DATABASE_URL", "").startswith("postgres"):
        assert backup.returncode != 0 and "pg_dump" in backup.stderr, backup
        return
    assert backup.returncode == 0, backup.stderr
    assert "Keep the secret key with it" in backup.stdout
    assert os.stat(target).st_mode & 0o777 == 0o600
    restore = subprocess.run([binary(), "restore", target], env=server.env, capture_output=True, text=True)
    assert restore.returncode != 0 and "stop it" in restore.stderr, restore


def metric_samples(server):
    from prometheus_client.parser import text_string_to_metric_families
    with urllib.request.urlopen(server.url + "/metrics") as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        text = resp.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(text) for s in f.samples}


def test_metrics_parse_as_prometheus_text_and_count_the_emails_just_sent(server, sdk, smtp):
    from alibabacloud_resourcedirectorymaster20220419 import models as rdm
    sent = ("rdc_emails_total", (("outcome", "sent"),))
    before = metric_samples(server).get(sent, 0.0)
    added = [sdk.add_message_contact(rdm.AddMessageContactRequest(
        name=f"MetricsTom{n}", email_address=f"metrics-{n}@example.com", title="Other", message_types=["FaultMessage"])).body.contact.contact_id
        for n in "abc"]
    for n in "abc":
        smtp.wait_for(lambda m, n=n: f"metrics-{n}@example.com" in m["to"])
    samples = metric_samples(server)
    assert samples[sent] - before >= 3, samples.get(sent)
    # Requests by route and status, with the latency histogram's buckets.
    assert any(name == "rdc_http_requests_total" and ("route", "/") in labels and ("status", "200") in labels for name, labels in samples), \
        "the API calls above are counted under their route"
    assert any(name == "rdc_http_request_duration_seconds_bucket" for name, _ in samples)
    assert any(name == "rdc_jobs" for name, _ in samples)
    assert ("rdc_verification_emails_daily_limit", ()) in samples
    assert samples[("rdc_db_pool_connections", (("state", "idle"),))] >= 0
    # The directory's contact quota is shared by the whole suite: give these back.
    for contact_id in added:
        sdk.delete_message_contact(rdm.DeleteMessageContactRequest(contact_id=contact_id))


def test_metrics_are_refused_through_a_proxy_without_the_token(server):
    req = urllib.request.Request(server.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    try:
        urllib.request.urlopen(req)
        raise AssertionError("a proxied request read the metrics")
    except urllib.error.HTTPError as e:
        assert e.code == 403


def test_the_console_uploads_a_directory_file_previews_it_and_applies_it(page, server, tmp_path):
    from test_console import sign_in
    sign_in(page, server)
    page.goto(f"{server.url}/directory")
    # The overview links the page (as "Upload a directory file" while the directory is empty).
    page.get_by_role("link", name=re.compile("Keep in step with a file|Upload a directory file")).first.click()
    page.wait_for_url("**/directory/sync")
    upload = tmp_path / "directory.csv"
    upload.write_text("folder_path,account_id,display_name,security_email\nsync-e2e/db,,Sync payments,sync-pay@example.com\n")
    page.get_by_label("File (CSV or JSON)").set_input_files(str(upload))
    # Our script puts the file's text into the form.
    expect(page.locator("#sync-content")).to_have_value(re.compile("Sync payments"), timeout=30_000)
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("heading", name="New folders (2)").wait_for()
    assert page.get_by_text("Sync payments (").is_visible() or page.get_by_text("Sync payments").first.is_visible()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"{server.url}/directory")
    assert page.get_by_text("The directory now matches the file").is_visible()
    # Applying again changes nothing: the preview says so.
    page.goto(f"{server.url}/directory/sync")
    page.get_by_label("File (CSV or JSON)").set_input_files(str(upload))
    expect(page.locator("#sync-content")).to_have_value(re.compile("Sync payments"), timeout=30_000)
    page.get_by_role("button", name="Preview").click()
    page.get_by_text("The directory already matches this file").wait_for()
