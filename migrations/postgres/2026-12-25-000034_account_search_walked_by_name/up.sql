-- A search's first page in the list's order by walking its matches' names, without
-- reading and sorting every match first: a common word ("retail", 83,334 of a million
-- demo members) finds its first 200 matches within the first few thousand names. The
-- planner walks this index when the word is common and reads the trigram index
-- (account_search_hay) when it is rare; the count of a common word's matches is read
-- apart (src/directory/service.rs, first_matches and count_matches).
CREATE INDEX account_search_listed ON account_search (name_key, id);
