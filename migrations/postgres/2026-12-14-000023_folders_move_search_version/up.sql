-- Servers keep, while the search version stands, the directory's totals (sums over the
-- folders) and the folders a search matched. Members already move the version on
-- (migration 000018); so do folders now: one added or deleted, renamed or moved, or its
-- kept count of members changed (also in plain SQL). Deferred as the members' trigger
-- is: once per transaction, at commit.
CREATE CONSTRAINT TRIGGER folders_search_version
    AFTER INSERT OR DELETE OR UPDATE OF name, parent_id, member_count ON folders
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rdc_bump_search_version();
