"""The end-to-end suite starts the built server itself, with a real SMTP server
(aiosmtpd), Debian's Chromium through Playwright and the official Alibaba Cloud SDK.

Environment:
  RDC_BIN            the server binary (default: $CARGO_TARGET_DIR or ./target, debug/rd-contacts)
  E2E_DATABASE_URL   a postgres:// URL of a server on which to create a fresh database;
                     unset: an SQLite file in a temporary data directory
  CHROMIUM           the browser (default /usr/bin/chromium)
"""

import os
import pathlib
import re
import shutil
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

from rdc_support import binary, free_port  # noqa: E402


class Inbox:
    """What the SMTP server received: one dict per message."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        # A dead mailbox, as a real server answers one: any address with "bounce" in it.
        if "bounce" in address:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "data": envelope.content.decode("utf8", "replace")})
        return "250 Message accepted for delivery"

    def wait_for(self, predicate, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                found = [m for m in self.messages if predicate(m)]
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"no matching email within {timeout}s; received: {[m['to'] for m in self.messages]}")


@pytest.fixture(scope="session")
def smtp():
    inbox = Inbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture(scope="session")
def database_url():
    base = os.environ.get("E2E_DATABASE_URL", "")
    if not base.startswith("postgres"):
        yield None
        return
    name = "rdc_e2e_" + uuid.uuid4().hex[:10]
    server, _ = base.rsplit("/", 1)
    subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {name}"], check=True)
    yield f"{server}/{name}"
    subprocess.run(["psql", base, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


class Server:
    def __init__(self, url, port, env, admin_password, data_dir):
        self.url, self.port, self.env, self.admin_password, self.data_dir = url, port, env, admin_password, data_dir

    def cli(self, *args, stdin=None):
        return subprocess.run([binary(), *args], env=self.env, input=stdin, capture_output=True, text=True, check=True).stdout


def start_server(database_url, smtp_port, name):
    """Starts `rd-contacts serve` on a free port, with a data directory of its own; yields
    the Server, then stops it and keeps its log as an artifact."""
    data_dir = tempfile.mkdtemp(prefix="rdc-e2e-")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, RDC_ADDR=f"127.0.0.1:{port}", RDC_PUBLIC_URL=url, RDC_DATA_DIR=data_dir, RDC_LOG="info")
    env.pop("DATABASE_URL", None)
    env.pop("RDC_SMTP_URL", None)
    if smtp_port:
        env["RDC_SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}"
    if database_url:
        env["DATABASE_URL"] = database_url
    log = open(os.path.join(data_dir, "server.log"), "w")
    proc = subprocess.Popen([binary(), "serve"], env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    password = None
    deadline = time.time() + 60
    while time.time() < deadline and password is None:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"password:\s+(\S+)", line)
        if m:
            password = m.group(1)
    assert password, "the server printed the first administrator's password"
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/healthz", timeout=1).status == 200:
                break
        except OSError:
            time.sleep(0.1)
    yield Server(url, port, env, password, data_dir)
    proc.terminate()
    proc.wait(timeout=10)
    log.close()
    keep = ARTIFACTS / (name + "-" + ("postgres" if database_url else "sqlite") + ".log")
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(os.path.join(data_dir, "server.log"), keep)
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def server(smtp, database_url):
    yield from start_server(database_url, smtp.port, "server")


@pytest.fixture(scope="module")
def outbox_server():
    """A second server, on SQLite, with no SMTP server: its email goes to the Outbox."""
    yield from start_server(None, None, "outbox-server")


@pytest.fixture(scope="session")
def access_key(server):
    out = server.cli("access-key", "create")
    lines = dict(line.split("=", 1) for line in out.strip().splitlines())
    assert set(lines) == {"AccessKeyId", "AccessKeySecret"}, out
    return lines["AccessKeyId"], lines["AccessKeySecret"]


def sdk_config(server, key_id, secret, **extra):
    from alibabacloud_tea_openapi import models as open_api_models
    return open_api_models.Config(access_key_id=key_id, access_key_secret=secret,
                                  endpoint=f"127.0.0.1:{server.port}", protocol="http", **extra)


@pytest.fixture(scope="session")
def sdk(server, access_key):
    from alibabacloud_resourcedirectorymaster20220419.client import Client
    return Client(sdk_config(server, *access_key))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors = []
    # A 4xx page is expected (a form shown again with its messages answers 422); a
    # script error or a static asset that fails to load is not.
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("response", lambda resp: errors.append(f"{resp.status} {resp.url}") if "/static/" in resp.url and resp.status >= 400 else None)
    # A request the browser itself cancelled (ERR_ABORTED) is not a failure: a navigation
    # the test cut short by going elsewhere, or a stylesheet still loading for a page the
    # test has just left (seen on a slow machine). An asset that does fail answers 4xx or
    # 5xx (above) or fails otherwise (refused, reset).
    pg.on("requestfailed", lambda req: None if "ERR_ABORTED" in (req.failure or "") else errors.append(f"failed: {req.url} {req.failure}"))
    yield pg
    context.close()
    assert not errors, f"the browser reported errors: {errors}"


def shot(page, name):
    """Saves a screenshot of the page as an artifact of the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    backend = "postgres" if os.environ.get("E2E_DATABASE_URL", "").startswith("postgres") else "sqlite"
    page.screenshot(path=str(ARTIFACTS / f"{backend}-{name}.png"), full_page=True)


AXE = pathlib.Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def audit(page, name):
    """Checks the page as it stands (a page, or one with a panel open): no serious or
    critical axe-core violation, nothing wider than the window; saves a screenshot named
    after the page and the window width. Returns the problems found, empty when none."""
    width = page.viewport_size["width"]
    shot(page, f"{width}-{name}")
    problems = []
    overflow = page.evaluate("""() => {
        const w = window.innerWidth;
        if (document.documentElement.scrollWidth <= w) return null;
        const wide = [...document.querySelectorAll('body *')].filter(e => {
            const r = e.getBoundingClientRect();
            if (r.right <= w + 1 || getComputedStyle(e).position === 'fixed') return false;
            for (let p = e.parentElement; p; p = p.parentElement) {
                const o = getComputedStyle(p).overflowX;
                if (o === 'auto' || o === 'scroll' || o === 'hidden') return false;
            }
            return true;
        }).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).replace(/ /g, '.') : ''));
        return {scrollWidth: document.documentElement.scrollWidth, wide};
    }""")
    if overflow:
        problems.append(f"{name} at {width}px: scrolls sideways ({overflow})")
    assert AXE.exists(), "axe-core is missing: run `npm ci` in tests/e2e"
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    for v in result:
        problems.append(f"{name} at {width}px: {v['impact']} {v['id']} ({v['help']}): {v['nodes']}")
    return problems
