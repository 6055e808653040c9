-- Tags on folders and members (TagResources, ListTagResources; the console's tag filter).
-- A resource has at most 20, one value per key.
CREATE TABLE tags (
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (resource_type, resource_id, tag_key)
);
CREATE INDEX tags_by_key ON tags (resource_type, tag_key, tag_value);
