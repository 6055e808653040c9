-- The audit trail: every change, written in the transaction that makes it, each entry
-- chained to the one before by a SHA-256 hash (src/audit). An entry is written unsealed
-- (no `seq`, no hash); just before its transaction commits it is sealed: `audit_chain`,
-- the chain's head, is locked (so entries take their numbers in commit order and the chain
-- never forks, while the lock is held only for the last statements of a transaction), and
-- it remembers where the retention purge cut the chain, so that the first kept entry is
-- still checked against the last purged one.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq BIGINT UNIQUE,
    at TIMESTAMP NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    via TEXT NOT NULL,
    request_id TEXT,
    action TEXT NOT NULL,
    target_id TEXT NOT NULL,
    related_id TEXT,
    changes TEXT NOT NULL,
    prev_hash TEXT NOT NULL DEFAULT '',
    hash TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_target ON audit_events (target_id, seq);
CREATE INDEX audit_events_related ON audit_events (related_id, seq);
CREATE INDEX audit_events_actor ON audit_events (actor_name, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);

CREATE TABLE audit_chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    purged_seq BIGINT NOT NULL,
    purged_hash TEXT NOT NULL
);
INSERT INTO audit_chain (id, last_seq, last_hash, purged_seq, purged_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000',
        0, '0000000000000000000000000000000000000000000000000000000000000000');
