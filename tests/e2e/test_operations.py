"""A server you can watch and keep, from the outside: its probes while the workers run,
and the backup commands against the database the live server uses."""

import json
import os
import subprocess
import tempfile
import urllib.request

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
