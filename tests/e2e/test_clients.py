"""Every real client of the Alibaba API against the server: the official Python SDK (V3
POST, V3 GET and V1), the legacy aliyun-python-sdk-core (CommonRequest, V1, as the
`aliyun` CLI sends it), npm @alicloud/pop-core (GET and POST) and @alicloud/openapi-client
(V3), and Terraform's request sequences as its provider sends them."""

import base64
import hashlib
import hmac
import json
import pathlib
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from alibabacloud_resourcedirectorymaster20220419 import models as rdm
from alibabacloud_resourcedirectorymaster20220419.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from conftest import sdk_config

HERE = pathlib.Path(__file__).parent


# ------------------------------------------------------------------ the official SDK

def test_the_official_sdk_signed_v1_pages_by_token_and_tags_members(server, access_key, sdk):
    v1 = Client(sdk_config(server, *access_key, signature_algorithm="v2"))
    folder = v1.create_folder(rdm.CreateFolderRequest(
        folder_name="clients-v1", tag=[rdm.CreateFolderRequestTag(key="cost", value="ops")])).body.folder
    ids = [v1.create_resource_account(rdm.CreateResourceAccountRequest(
        display_name=f"v1 member {i}", parent_folder_id=folder.folder_id,
        tag=[rdm.CreateResourceAccountRequestTag(key="tier", value="gold" if i % 2 else "silver")])).body.account.account_id
        for i in range(5)]

    # MaxResults/NextToken: every member once, and no NextToken after the last page.
    seen, token = [], None
    while True:
        page = v1.list_accounts(rdm.ListAccountsRequest(max_results=2, next_token=token, query_keyword="v1 member")).body
        seen += [a.account_id for a in page.accounts.account]
        token = page.next_token
        if not token:
            break
    assert sorted(seen) == sorted(ids)

    gold = v1.list_accounts(rdm.ListAccountsRequest(
        tag=[rdm.ListAccountsRequestTag(key="tier", value="gold")], include_tags=True)).body.accounts.account
    assert {a.account_id for a in gold} == {ids[1], ids[3]}
    assert [(t.key, t.value) for t in gold[0].tags.tag] == [("tier", "gold")]

    rows = sdk.list_tag_resources(rdm.ListTagResourcesRequest(resource_type="Account", resource_id=[ids[0]])).body
    assert [(r.resource_id, r.tag_key, r.tag_value) for r in rows.tag_resources] == [(ids[0], "tier", "silver")]
    assert rows.next_token is None
    keys = sdk.list_tag_keys(rdm.ListTagKeysRequest(resource_type="Account", key_filter="tie")).body.tags
    assert [k.key for k in keys] == ["tier"]
    sdk.untag_resources(rdm.UntagResourcesRequest(resource_type="Account", resource_id=ids, all=True))
    assert sdk.list_tag_resources(rdm.ListTagResourcesRequest(resource_type="Account", resource_id=ids)).body.tag_resources == []

    payer = v1.get_payer_for_account(rdm.GetPayerForAccountRequest(account_id=ids[0])).body
    rd = v1.get_resource_directory().body.resource_directory
    assert (payer.payer_account_id, payer.payer_account_name) == (rd.master_account_id, rd.master_account_name)

    with pytest.raises(ClientException) as dry:
        v1.create_resource_account(rdm.CreateResourceAccountRequest(display_name="dry member", dry_run=True))
    assert dry.value.code == "DryRunOperation"
    assert v1.list_accounts(rdm.ListAccountsRequest(query_keyword="dry member")).body.total_count == 0


def test_the_official_sdk_sends_a_v3_signed_get(server, access_key):
    from alibabacloud_tea_openapi.utils_models import OpenApiRequest, Params
    from alibabacloud_tea_util.models import RuntimeOptions
    client = Client(sdk_config(server, *access_key))
    params = Params(action="GetResourceDirectory", version="2022-04-19", protocol="HTTP", pathname="/", method="GET",
                    auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
    body = client.call_api(params, OpenApiRequest(query={}), RuntimeOptions())["body"]
    assert body["ResourceDirectory"]["RootFolderId"].startswith("r-")


# ------------------------------------------------------------------ aliyun-python-sdk-core

def legacy_call(server, access_key, action, params, method="POST", version="2022-04-19"):
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest
    client = AcsClient(access_key[0], access_key[1], "cn-hangzhou")
    request = CommonRequest(domain=f"127.0.0.1:{server.port}", version=version, action_name=action)
    request.set_protocol_type("http")
    request.set_method(method)
    for k, v in params.items():
        request.add_query_param(k, v)
    return json.loads(client.do_action_with_exception(request))


def test_the_legacy_core_sdk_calls_like_the_aliyun_cli(server, access_key):
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    created = legacy_call(server, access_key, "AddMessageContact", {
        "Name": "LegacyLi", "EmailAddress": "legacy-li@example.com", "Title": "Other", "MessageTypes.1": "FaultMessage"})
    contact = created["Contact"]["ContactId"]
    for method in ("POST", "GET"):
        got = legacy_call(server, access_key, "GetMessageContact", {"ContactId": contact}, method=method)
        assert got["Contact"]["Name"] == "LegacyLi" and got["Contact"]["MessageTypes"] == ["FaultMessage"]
    listed = legacy_call(server, access_key, "ListAccounts", {"PageSize": "1"}, version="2020-03-31")
    assert "Account" in listed["Accounts"]
    with pytest.raises(ServerException) as unsupported:
        legacy_call(server, access_key, "DeleteAccount", {"AccountId": "1234567890123456"})
    assert unsupported.value.get_error_code() == "OperationNotSupported.Action"
    assert unsupported.value.get_http_status() == 400


# ------------------------------------------------------------------ the Node.js clients

def node(server, access_key, client, action, params, version="2022-04-19"):
    out = subprocess.run(["node", str(HERE / "clients.js"), client, server.url, access_key[0], access_key[1], action,
                          json.dumps(params), version], capture_output=True, text=True, timeout=60, cwd=HERE)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("client", ["pop-core", "pop-core-post", "openapi", "openapi-get"])
def test_the_node_clients_create_read_and_fail_as_documented(server, access_key, client):
    name = f"node-{client}"
    created = node(server, access_key, client, "CreateFolder", {"FolderName": name, "Tag.1.Key": "client", "Tag.1.Value": client})
    assert "body" in created, created
    folder = created["body"]["Folder"]["FolderId"]
    got = node(server, access_key, client, "GetFolder", {"FolderId": folder})["body"]["Folder"]
    assert got["FolderName"] == name and "RequestId" not in got
    tags = node(server, access_key, client, "ListTagResources", {"ResourceType": "Folder", "ResourceId.1": folder}, version="2020-03-31")
    assert [(r["TagKey"], r["TagValue"]) for r in tags["body"]["TagResources"]] == [("client", client)]
    missing = node(server, access_key, client, "GetFolder", {"FolderId": "fd-0000000000"})
    assert missing["error"]["code"] == "EntityNotExists.Folder"
    unsupported = node(server, access_key, client, "ListControlPolicies", {})
    assert unsupported["error"]["code"] == "OperationNotSupported.Action"


# ------------------------------------------------------------------ Terraform's requests

def pct(s):
    return urllib.parse.quote(str(s), safe="~")


def flatten(body, prefix=""):
    """A request map as the provider's RPC client puts it in a form body: lists as
    Name.1, Name.2…, maps in lists as Name.1.Key."""
    out = {}
    for k, v in body.items():
        key = f"{prefix}{k}"
        if isinstance(v, list):
            for i, item in enumerate(v, 1):
                if isinstance(item, dict):
                    out.update(flatten(item, f"{key}.{i}."))
                else:
                    out[f"{key}.{i}"] = item
        else:
            out[key] = v
    return out


class TerraformError(Exception):
    def __init__(self, status, body):
        super().__init__(f"{status} {body}")
        self.status, self.code = status, body.get("Code")


def terraform_call(server, access_key, action, request, version="2022-04-19"):
    """One RpcPost of the provider: V1 (HMAC-SHA1) common parameters in the query, the
    request in a form body, the signature over both; throttling and unavailability are
    retried as its NeedRetry does."""
    for attempt in range(5):
        query = {
            "Action": action, "Format": "JSON", "Version": version, "AccessKeyId": access_key[0],
            "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "RegionId": "cn-hangzhou",
        }
        form = flatten(request)
        signed = {**query, **form}
        canonical = "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(signed.items()))
        to_sign = f"POST&{pct('/')}&{pct(canonical)}"
        query["Signature"] = base64.b64encode(hmac.new(f"{access_key[1]}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
        req = urllib.request.Request(f"{server.url}/?{urllib.parse.urlencode(query)}", data=urllib.parse.urlencode(form).encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            body = json.loads(e.read())
            if e.code >= 500 or body.get("Code", "").startswith("Throttling") or body.get("Code") == "ConcurrentCallNotSupported":
                time.sleep(0.2 * (attempt + 1))
                continue
            raise TerraformError(e.code, body)
    raise AssertionError(f"{action} kept being throttled")


def not_found(e):
    """The provider's NotFoundError: a 404, or a code that says the entity is gone."""
    return e.status == 404 or "NotExist" in (e.code or "") or "NotFound" in (e.code or "")


def terraform_read(server, access_key, action, request):
    """A resource's Read: None when the resource is gone (Terraform drops it from state)."""
    try:
        return terraform_call(server, access_key, action, request)
    except TerraformError as e:
        if not_found(e):
            return None
        raise


def test_terraform_creates_updates_and_destroys_a_message_contact(server, access_key):
    config = {"EmailAddress": "tf-ops@example.com", "Name": "TfOps", "PhoneNumber": "86-13900001111",
              "MessageTypes": ["SecurityMessage", "FaultMessage"], "Title": "TechnicalDirector"}
    created = terraform_call(server, access_key, "AddMessageContact", config)
    contact = created["Contact"]["ContactId"]
    state = terraform_read(server, access_key, "GetMessageContact", {"ContactId": contact})["Contact"]
    assert (state["Name"], state["PhoneNumber"], state["MessageTypes"]) == ("TfOps", "86-13900001111", ["SecurityMessage", "FaultMessage"])

    # phone_number removed from the configuration: the provider sends PhoneNumber "".
    update = {"ContactId": contact, "EmailAddress": "tf-ops@example.com", "Name": "TfOps", "PhoneNumber": "",
              "MessageTypes": ["SecurityMessage", "FaultMessage"], "Title": "TechnicalDirector"}
    terraform_call(server, access_key, "UpdateMessageContact", update)
    state = terraform_read(server, access_key, "GetMessageContact", {"ContactId": contact})["Contact"]
    assert state.get("PhoneNumber", "") == "", "no permanent diff on the next plan"

    terraform_call(server, access_key, "DeleteMessageContact", {"ContactId": contact})
    assert terraform_read(server, access_key, "GetMessageContact", {"ContactId": contact}) is None, "read after destroy: gone"


def test_terraform_manages_a_folder_with_tags_and_reads_an_account(server, access_key):
    created = terraform_call(server, access_key, "CreateFolder",
                             {"FolderName": "tf-folder", "Tag": [{"Key": "owner", "Value": "platform"}]}, version="2020-03-31")
    folder = created["Folder"]["FolderId"]
    assert terraform_read(server, access_key, "GetFolder", {"FolderId": folder})["Folder"]["FolderName"] == "tf-folder"
    # Changing tags: the provider untags the removed keys and tags the new ones.
    terraform_call(server, access_key, "UntagResources", {"ResourceType": "Folder", "ResourceId": [folder], "TagKey": ["owner"]})
    terraform_call(server, access_key, "TagResources", {"ResourceType": "Folder", "ResourceId": [folder], "Tag": [{"Key": "team", "Value": "sre"}]})
    tags = terraform_call(server, access_key, "ListTagResources", {"ResourceType": "Folder", "ResourceId": [folder]}, version="2020-03-31")
    assert [(t["TagKey"], t["TagValue"]) for t in tags["TagResources"]] == [("team", "sre")]

    account = terraform_call(server, access_key, "CreateResourceAccount",
                             {"DisplayName": "tf account", "ParentFolderId": folder}, version="2020-03-31")["Account"]["AccountId"]
    # alicloud_resource_manager_account's Read: GetAccount, GetPayerForAccount, ListTagResources.
    got = terraform_read(server, access_key, "GetAccount", {"AccountId": account})["Account"]
    assert got["FolderId"] == folder and got["EmailStatus"] == ""
    payer = terraform_call(server, access_key, "GetPayerForAccount", {"AccountId": account}, version="2020-03-31")
    assert payer["PayerAccountId"]
    listed = terraform_call(server, access_key, "ListTagResources", {"ResourceType": "Account", "ResourceId": [account]}, version="2020-03-31")
    assert listed["TagResources"] == [] and "NextToken" not in listed

    # Destroying the account: an action this server does not run is an error, never "gone".
    with pytest.raises(TerraformError) as refused:
        terraform_call(server, access_key, "DeleteAccount", {"AccountId": account})
    assert refused.value.status == 400 and not not_found(refused.value)

    terraform_call(server, access_key, "RemoveCloudAccount", {"AccountId": account})
    terraform_call(server, access_key, "DeleteFolder", {"FolderId": folder}, version="2020-03-31")
    assert terraform_read(server, access_key, "GetFolder", {"FolderId": folder}) is None
