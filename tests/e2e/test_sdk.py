"""The official Alibaba Cloud Python SDK against the server: every directory action."""

import pytest
from alibabacloud_resourcedirectorymaster20220419 import models as rdm
from alibabacloud_resourcedirectorymaster20220419.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from conftest import sdk_config


def test_the_sdk_builds_a_tree_moves_and_removes_members(sdk):
    rd = sdk.get_resource_directory().body.resource_directory
    assert rd.resource_directory_id.startswith("rd-")
    root = rd.root_folder_id

    dev = sdk.create_folder(rdm.CreateFolderRequest(folder_name="sdk-dev")).body.folder
    assert dev.parent_folder_id == root
    prod = sdk.create_folder(rdm.CreateFolderRequest(folder_name="sdk-prod", parent_folder_id=root)).body.folder
    team = sdk.create_folder(rdm.CreateFolderRequest(folder_name="team", parent_folder_id=dev.folder_id)).body.folder

    got = sdk.get_folder(rdm.GetFolderRequest(folder_id=team.folder_id)).body.folder
    assert got.resource_directory_path == f"{rd.resource_directory_id}/{root}/{dev.folder_id}/{team.folder_id}"
    renamed = sdk.update_folder(rdm.UpdateFolderRequest(folder_id=team.folder_id, new_folder_name="team-a")).body.folder
    assert renamed.folder_name == "team-a"
    ancestors = sdk.list_ancestors(rdm.ListAncestorsRequest(child_id=team.folder_id)).body.folders.folder
    assert [f.folder_id for f in ancestors] == [root, dev.folder_id]
    children = sdk.list_folders_for_parent(rdm.ListFoldersForParentRequest(parent_folder_id=root, query_keyword="sdk-")).body
    assert {f.folder_name for f in children.folders.folder} == {"sdk-dev", "sdk-prod"}

    ids = []
    for i in range(5):
        account = sdk.create_resource_account(rdm.CreateResourceAccountRequest(
            display_name=f"sdk member {i}", parent_folder_id=dev.folder_id, account_name_prefix=f"sdkm{i}")).body.account
        assert account.folder_id == dev.folder_id and account.type == "ResourceAccount"
        ids.append(account.account_id)

    page2 = sdk.list_accounts(rdm.ListAccountsRequest(page_number=2, page_size=2, query_keyword="sdk member")).body
    assert page2.total_count == 5 and page2.page_number == 2 and len(page2.accounts.account) == 2
    everyone = {a.account_id for p in (1, 2, 3) for a in
                sdk.list_accounts(rdm.ListAccountsRequest(page_number=p, page_size=2, query_keyword="sdk member")).body.accounts.account}
    assert everyone == set(ids), "paging visits every member once"

    sdk.move_account(rdm.MoveAccountRequest(account_id=ids[0], destination_folder_id=prod.folder_id))
    in_prod = sdk.list_accounts_for_parent(rdm.ListAccountsForParentRequest(parent_folder_id=prod.folder_id)).body
    assert [a.account_id for a in in_prod.accounts.account] == [ids[0]]
    assert sdk.get_account(rdm.GetAccountRequest(account_id=ids[0])).body.account.folder_id == prod.folder_id

    updated = sdk.update_account(rdm.UpdateAccountRequest(account_id=ids[1], new_display_name="renamed member")).body.account
    assert updated.display_name == "renamed member"

    with pytest.raises(ClientException) as refused:
        sdk.delete_folder(rdm.DeleteFolderRequest(folder_id=prod.folder_id))
    assert refused.value.code == "DeleteConflict.Folder.Account" and refused.value.status_code == 409

    sdk.remove_cloud_account(rdm.RemoveCloudAccountRequest(account_id=ids[0]))
    with pytest.raises(ClientException) as gone:
        sdk.get_account(rdm.GetAccountRequest(account_id=ids[0]))
    assert gone.value.code == "EntityNotExists.Account"
    sdk.delete_folder(rdm.DeleteFolderRequest(folder_id=prod.folder_id))
    with pytest.raises(ClientException) as missing:
        sdk.get_folder(rdm.GetFolderRequest(folder_id=prod.folder_id))
    assert missing.value.code == "EntityNotExists.Folder" and missing.value.status_code == 404


def test_a_wrong_secret_gets_signature_does_not_match(server, access_key):
    client = Client(sdk_config(server, access_key[0], "not-the-secret"))
    with pytest.raises(ClientException) as refused:
        client.get_resource_directory()
    assert refused.value.code == "SignatureDoesNotMatch"


def test_an_unknown_access_key_is_refused(server):
    client = Client(sdk_config(server, "LTAInosuchkey", "whatever"))
    with pytest.raises(ClientException) as refused:
        client.get_resource_directory()
    assert refused.value.code == "InvalidAccessKeyId.NotFound"


def test_the_legacy_hmac_sha1_signature_works(server, access_key):
    client = Client(sdk_config(server, *access_key, signature_algorithm="v2"))
    folder = client.create_folder(rdm.CreateFolderRequest(folder_name="v1-signed")).body.folder
    assert folder.folder_id.startswith("fd-")
    client.delete_folder(rdm.DeleteFolderRequest(folder_id=folder.folder_id))


def test_missing_and_invalid_parameters_get_precise_codes(sdk):
    with pytest.raises(ClientException) as missing:
        sdk.create_folder(rdm.CreateFolderRequest())
    assert missing.value.code == "MissingParameter.FolderName" and missing.value.status_code == 400
    with pytest.raises(ClientException) as invalid:
        sdk.list_accounts(rdm.ListAccountsRequest(page_size=1000))
    assert invalid.value.code == "InvalidParameter.PageSize"
    with pytest.raises(ClientException) as bad_id:
        sdk.move_account(rdm.MoveAccountRequest(account_id="123", destination_folder_id="fd-0000000000"))
    assert bad_id.value.code == "InvalidParameter.AccountId"
