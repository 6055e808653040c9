-- The directory's totals (folders, members) are sums over the folders, kept by a server
-- while the search version stands. Members already move it on (migration 000018); so do
-- folders now: one added or deleted, moved, or its kept count of members changed (also
-- in plain SQL). Deferred as the members' trigger is: once per transaction, at commit.
CREATE CONSTRAINT TRIGGER folders_search_version
    AFTER INSERT OR DELETE OR UPDATE OF parent_id, member_count ON folders
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rdc_bump_search_version();
