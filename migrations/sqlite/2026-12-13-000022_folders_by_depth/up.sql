-- A member's page offers the folders it can be moved to: every folder up to 300, or else
-- the top level. It reads the first 301 folders by depth, then name, in one query (it
-- counted them, then read the list): this index gives that order without sorting every
-- folder (10,000 at a million members).
CREATE INDEX folders_by_depth ON folders (depth, lower(name), id);
