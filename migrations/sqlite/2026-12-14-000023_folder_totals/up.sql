-- The directory's totals (folders, members) are sums over the folders, kept by a server
-- while the search version stands. Members already move it on (migration 000018); so do
-- folders now: one added or deleted, moved, or its kept count of members changed (also
-- in plain SQL).
CREATE TRIGGER folders_search_version_insert AFTER INSERT ON folders BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER folders_search_version_update AFTER UPDATE OF parent_id, member_count ON folders BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER folders_search_version_delete AFTER DELETE ON folders BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
