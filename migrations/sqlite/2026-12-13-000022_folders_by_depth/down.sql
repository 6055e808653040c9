DROP INDEX folders_by_depth;
