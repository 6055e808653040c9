"""Security as an attacker meets it, with real clients: a session cookie copied before
sign-out, sign-in redirects followed by Chromium, a V3 request signed over `host` only,
and a server log that keeps no token, signature or address."""

import datetime
import hashlib
import hmac
import re
import urllib.parse
import uuid

import requests
from alibabacloud_resourcedirectorymaster20220419 import models as rdm

from test_console import sign_in
from test_contacts import link_in


def test_a_session_cookie_copied_before_sign_out_is_useless_after_it(browser, server):
    victim = browser.new_context()
    page = victim.new_page()
    sign_in(page, server)
    stolen = victim.cookies()
    assert any("rdc_session" in c["name"] for c in stolen)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    victim.close()

    thief = browser.new_context()
    thief.add_cookies(stolen)
    page = thief.new_page()
    page.goto(server.url + "/directory")
    assert "/login" in page.url, "the copied cookie no longer signs anyone in"
    # Without a browser too: the same cookie, straight to the server.
    jar = {c["name"]: c["value"] for c in stolen}
    answer = requests.get(server.url + "/contacts", cookies=jar, allow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    thief.close()


def test_sign_in_never_sends_chromium_to_another_site(browser, server):
    for next_value in ["/%09/evil.example", "//evil.example", "/%5Cevil.example", "https://evil.example/"]:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{server.url}/login?next={next_value}")
        page.get_by_label("User name").fill("admin")
        page.get_by_label("Password").fill(server.admin_password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_load_state()
        assert page.url == server.url + "/directory", (next_value, page.url)
        context.close()
    # A path on this site is kept.
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/login?next=%2Fcontacts")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(server.admin_password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(server.url + "/contacts")
    context.close()


def v3_headers(server, key_id, secret, action, signed, query):
    """Headers of a V3 request signed over `signed` only."""
    headers = {
        "host": f"127.0.0.1:{server.port}",
        "x-acs-action": action,
        "x-acs-version": "2022-04-19",
        "x-acs-date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
    }
    canonical_query = "&".join(f"{k}={urllib.parse.quote(v, safe='~')}" for k, v in sorted(query.items()))
    names = sorted(signed)
    canonical_headers = "".join(f"{n}:{headers[n].strip()}\n" for n in names)
    canonical = f"POST\n/\n{canonical_query}\n{canonical_headers}\n{';'.join(names)}\n{hashlib.sha256(b'').hexdigest()}"
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = f"ACS3-HMAC-SHA256 Credential={key_id},SignedHeaders={';'.join(names)},Signature={signature}"
    return headers


def test_a_v3_request_signed_over_host_only_is_refused(server, sdk, access_key):
    folder = sdk.create_folder(rdm.CreateFolderRequest(folder_name="signed-over-host")).body.folder.folder_id
    key_id, secret = access_key
    query = {"FolderId": folder}
    forged = requests.post(server.url + "/", params=query, headers=v3_headers(server, key_id, secret, "DeleteFolder", ["host"], query))
    assert forged.status_code == 400 and forged.json()["Code"] == "IncompleteSignature", forged.text
    assert sdk.get_folder(rdm.GetFolderRequest(folder_id=folder)).body.folder.folder_id == folder, "the folder is still there"
    everything = ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"]
    proper = requests.post(server.url + "/", params=query, headers=v3_headers(server, key_id, secret, "DeleteFolder", everything, query))
    assert proper.status_code == 200, proper.text


def test_the_server_log_keeps_no_token_signature_key_or_address(server, sdk, smtp, access_key, page):
    address = "log-watch@example.com"
    sdk.add_message_contact(rdm.AddMessageContactRequest(name="LogWatch", email_address=address, title="Other", message_types=["FaultMessage"]))
    link = link_in(smtp.wait_for(lambda m: address in m["to"])[0])
    token = link.rsplit("/", 1)[1]
    page.goto(link)
    page.get_by_role("button", name=re.compile("Confirm")).click()
    page.get_by_role("heading", name="Address confirmed").wait_for()
    # A V1 call: signature and key in the query string.
    answer = sdk_v1_get(server, *access_key)
    signature = answer["signature"]
    log = open(f"{server.data_dir}/server.log", encoding="utf8").read()
    for secret in [token, signature, access_key[0], access_key[1], address]:
        assert secret not in log, f"{secret[:12]}… is in the log"
    assert "{token}" in log, "the route's pattern is logged instead"


def sdk_v1_get(server, key_id, secret):
    """A GetResourceDirectory signed with HMAC-SHA1, everything in the query of a GET."""
    import base64
    params = {
        "Action": "GetResourceDirectory", "Format": "json", "Version": "2022-04-19",
        "Timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "SignatureNonce": uuid.uuid4().hex, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "AccessKeyId": key_id,
    }
    quote = lambda s: urllib.parse.quote(s, safe="~")  # noqa: E731
    canonical = "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(params.items()))
    to_sign = f"GET&{quote('/')}&{quote(canonical)}"
    params["Signature"] = base64.b64encode(hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
    answer = requests.get(server.url + "/", params=params)
    assert answer.status_code == 200, answer.text
    return {"signature": params["Signature"]}
