DROP INDEX folders_id_trgm;
