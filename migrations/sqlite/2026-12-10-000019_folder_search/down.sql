-- PostgreSQL indexes the folders' ids for search here (a trigram index beside the names'
-- one). SQLite reads its folders for a search as before: a few thousand short rows, well
-- under a millisecond.
SELECT 1;
