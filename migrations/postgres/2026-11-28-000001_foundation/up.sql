-- Timestamps are UTC, always written by the application (never a database default),
-- so that both backends store and compare them the same way.

CREATE TABLE resource_directories (
    id                  TEXT PRIMARY KEY,
    root_folder_id      TEXT NOT NULL,
    master_account_id   TEXT NOT NULL,
    master_account_name TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL
);

-- path: the ids from the root down to this folder, each followed by '/', so a subtree
-- is one prefix match.
CREATE TABLE folders (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    parent_id  TEXT REFERENCES folders (id),
    depth      INTEGER NOT NULL,
    path       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX folders_parent ON folders (parent_id, name);
CREATE INDEX folders_path_prefix ON folders (path text_pattern_ops);

-- A removed member keeps its row (rule B4): folder_id is cleared, removed_at is set.
CREATE TABLE accounts (
    id             TEXT PRIMARY KEY,
    display_name   TEXT NOT NULL,
    account_name   TEXT NOT NULL,
    folder_id      TEXT REFERENCES folders (id),
    security_email TEXT,
    join_method    TEXT NOT NULL,
    joined_at      TIMESTAMP NOT NULL,
    modified_at    TIMESTAMP NOT NULL,
    removed_at     TIMESTAMP
);
CREATE INDEX accounts_folder ON accounts (folder_id, display_name);
CREATE INDEX accounts_display_name ON accounts (display_name);

CREATE TABLE admins (
    id            SERIAL PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE access_keys (
    id            TEXT PRIMARY KEY,
    secret_sealed TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE api_nonces (
    nonce   TEXT PRIMARY KEY,
    seen_at TIMESTAMP NOT NULL
);
CREATE INDEX api_nonces_seen ON api_nonces (seen_at);

CREATE TABLE jobs (
    id             BIGSERIAL PRIMARY KEY,
    kind           TEXT NOT NULL,
    payload        TEXT NOT NULL,
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    max_attempts   INTEGER NOT NULL,
    run_at         TIMESTAMP NOT NULL,
    locked_until   TIMESTAMP,
    locked_by      TEXT,
    progress_done  BIGINT NOT NULL,
    progress_total BIGINT NOT NULL,
    last_error     TEXT,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX jobs_runnable ON jobs (status, run_at);
