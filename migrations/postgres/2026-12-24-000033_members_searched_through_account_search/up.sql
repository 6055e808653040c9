-- Every search of the members reads account_search (migration 000031), kept or not,
-- tagged or not: the members' own trigram indexes serve nothing any more. Each one cost
-- its upkeep on every member added or changed, and the demo's million members seconds
-- each to build again after its bulk load (9.2 s, 8.0 s and 5.4 s of its 80 s).
DROP INDEX accounts_name_trgm;
DROP INDEX accounts_email_trgm;
DROP INDEX accounts_id_trgm;
