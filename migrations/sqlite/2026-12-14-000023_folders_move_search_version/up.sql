-- Servers keep, while the search version stands, the directory's totals (sums over the
-- folders) and the folders a search matched. Members already move the version on
-- (migration 000018); so do folders now: one added or deleted, renamed or moved, or its
-- kept count of members changed (also in plain SQL).
CREATE TRIGGER folders_search_version_insert AFTER INSERT ON folders BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER folders_search_version_update AFTER UPDATE OF name, parent_id, member_count ON folders BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER folders_search_version_delete AFTER DELETE ON folders BEGIN
    UPDATE search_version SET version = version + 1 WHERE id = 1;
END;
