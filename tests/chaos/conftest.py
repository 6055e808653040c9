"""The fault-injection suite: real `serve` processes on a fresh PostgreSQL database, a real
SMTP server (aiosmtpd) that can be slowed down, kill -9 and restarts, and several servers on
one database. It checks rule T2: every notification reaches each recipient exactly once
(a crash may repeat only the emails in flight), nothing is left pending, and the delivery
log matches what the SMTP server received.

Environment:
  RDC_BIN          the server binary (default: $CARGO_TARGET_DIR or ./target, debug/rd-contacts)
  CHAOS_DATABASE_URL  a postgres:// URL of a server on which to create fresh databases
                   (default postgres://postgres@127.0.0.1:5432/postgres)
"""

import asyncio
import email
import email.header
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

import pytest
from aiosmtpd.controller import Controller

ARTIFACTS = pathlib.Path(__file__).resolve().parent / "artifacts"
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from rdc_support import binary, free_port, publish as publish_answer  # noqa: E402


def wait_for(what, predicate, timeout=60, every=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s")


class SmtpLog:
    """An SMTP server that takes `delay` seconds per message and logs every one."""

    def __init__(self):
        self.delay = 0.0
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        body = envelope.content.decode("utf8", "replace")
        with self.lock:
            self.messages.append({"to": list(envelope.rcpt_tos), "data": body, "at": time.time()})
        return "250 Message accepted for delivery"

    def matching(self, needle):
        with self.lock:
            return [m for m in self.messages if needle in m["data"]]

    def count(self, needle):
        return len(self.matching(needle))


def subject_of(message):
    parsed = email.message_from_string(message["data"])
    return str(email.header.make_header(email.header.decode_header(parsed["Subject"])))


@pytest.fixture
def smtp():
    log = SmtpLog()
    log.port = free_port()
    controller = Controller(log, hostname="127.0.0.1", port=log.port)
    controller.start()
    yield log
    controller.stop()


class Database:
    def __init__(self, base):
        server, _ = base.rsplit("/", 1)
        self.base = base
        self.name = "rdc_chaos_" + uuid.uuid4().hex[:10]
        self.url = f"{server}/{self.name}"

    def sql(self, query):
        """Runs a query; returns its rows as lists of strings."""
        out = subprocess.run(["psql", self.url, "-AtqF", "\t", "-c", query], check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def value(self, query):
        rows = self.sql(query)
        return rows[0][0] if rows else None


@pytest.fixture
def database():
    base = os.environ.get("CHAOS_DATABASE_URL") or os.environ.get("E2E_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    assert base.startswith("postgres"), "the fault-injection suite runs on PostgreSQL"
    db = Database(base)
    subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {db.name}"], check=True)
    yield db
    subprocess.run(["psql", base, "-qc", f"DROP DATABASE IF EXISTS {db.name} WITH (FORCE)"], check=False)


class Server:
    """One `serve` process, which the test can kill -9 and start again."""

    def __init__(self, database, smtp, data_dir, **settings):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.env = dict(os.environ, RDC_ADDR=f"127.0.0.1:{self.port}", RDC_PUBLIC_URL=self.url, RDC_DATA_DIR=data_dir,
                        RDC_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}", DATABASE_URL=database.url, RDC_LOG="info",
                        RDC_SECRET_KEY="a chaos test secret key that is long enough for cookies and sealing, 64+ bytes")
        self.env.update({k: str(v) for k, v in settings.items()})
        self.proc = None
        self.password = None
        self.starts = 0

    def cli(self, *args, stdin=None):
        return subprocess.run([binary(), *args], env=self.env, input=stdin, capture_output=True, text=True, check=True).stdout

    def start(self):
        self.starts += 1
        log = open(os.path.join(self.data_dir, f"server-{self.port}-{self.starts}.log"), "w")
        self.proc = subprocess.Popen([binary(), "serve"], env=self.env, stdout=subprocess.PIPE, stderr=log, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"the server exited: see {log.name}")
            m = re.search(r"password:\s+(\S+)", line)
            if m:
                self.password = m.group(1)
            if "password is shown only now" in line or "to sign in." in line:
                break
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        wait_for("the server answers", self.healthy, timeout=30)
        return self

    def healthy(self):
        try:
            return urllib.request.urlopen(self.url + "/healthz", timeout=1).status == 200
        except OSError:
            return False

    def kill(self):
        """kill -9: no chance to finish anything."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def servers(database, smtp):
    """Makes servers on the test's database; stops them and keeps their logs at the end."""
    data_dir = tempfile.mkdtemp(prefix="rdc-chaos-")
    made = []

    def make(**settings):
        server = Server(database, smtp, data_dir, **settings)
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()
    ARTIFACTS.mkdir(exist_ok=True)
    for log in pathlib.Path(data_dir).glob("server-*.log"):
        shutil.copy(log, ARTIFACTS / log.name)
    shutil.rmtree(data_dir, ignore_errors=True)


def sdk_for(server):
    from alibabacloud_resourcedirectorymaster20220419.client import Client
    from alibabacloud_tea_openapi import models as open_api_models
    out = server.cli("access-key", "create")
    keys = dict(line.split("=", 1) for line in out.strip().splitlines())
    return Client(open_api_models.Config(access_key_id=keys["AccessKeyId"], access_key_secret=keys["AccessKeySecret"],
                                         endpoint=f"127.0.0.1:{server.port}", protocol="http"))


def publish(sdk, **query):
    """PublishNotification; returns the notification's id and the members it reaches."""
    answer = publish_answer(sdk, **query)
    assert answer["statusCode"] == 200, answer
    return int(answer["body"]["NotificationId"]), answer["body"]["Members"]


def demo_server(servers, folders, members, **settings):
    """A server on a demo directory of this size, started; and an SDK client for it."""
    server = servers(**settings)
    server.cli("migrate")
    server.cli("demo", "--folders", str(folders), "--members", str(members))
    server.start()
    return server, sdk_for(server)
