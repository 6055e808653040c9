"""What the end-to-end and the fault-injection suites share: where the server binary is, a
free port, an environment without proxies, the plain text of an email, and the SDK's
generic call for our own actions."""

import email
import os
import pathlib
import socket

ROOT = pathlib.Path(__file__).resolve().parents[1]

# The SDK sends even 127.0.0.1 traffic through a proxy from the environment.
for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(var, None)


def binary():
    """RDC_BIN, or the debug build in $CARGO_TARGET_DIR (or ./target)."""
    if os.environ.get("RDC_BIN"):
        return os.environ["RDC_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR") or str(ROOT / "target")
    return str(pathlib.Path(target) / "debug" / "rd-contacts")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def text_of(message):
    """The plain-text part of a message the SMTP server received (a dict with "data")."""
    parsed = email.message_from_string(message["data"])
    for part in parsed.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no plain-text part")


def call(sdk, action, **query):
    """One of our own actions (PublishNotification, ListAuditEvents), through the SDK's
    generic call; returns its answer."""
    from alibabacloud_tea_openapi import utils_models as um
    from darabonba.runtime import RuntimeOptions
    params = um.Params(action=action, version="2022-04-19", protocol="HTTP", pathname="/", method="POST",
                       auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
    return sdk.call_api(params, um.OpenApiRequest(query=query), RuntimeOptions())


def publish(sdk, **query):
    """Our own PublishNotification; returns its answer."""
    return call(sdk, "PublishNotification", **query)
