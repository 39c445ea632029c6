"""Versioned schema. Each migration is frozen once released: never edit one, append a new one.

Timestamps are stored as naive TIMESTAMP in UTC (the parsers convert); month boundaries are
computed in Asia/Shanghai by the scoring code. Naive UTC keeps Parquet exchange with Spark
unambiguous.
"""

from __future__ import annotations

# Release 0.0 (schema 1): the first layout, kept verbatim so that tests can build a
# database "written by an earlier release" and prove that it upgrades.
SCHEMA_1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL);
CREATE TABLE organizations (
    organization_id INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL UNIQUE
);
CREATE TABLE accounts (
    platform VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    organization_id INTEGER,
    region VARCHAR,
    followers BIGINT,
    PRIMARY KEY (platform, account_id)
);
CREATE TABLE import_batches (
    batch_id INTEGER PRIMARY KEY,
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    accepted INTEGER NOT NULL,
    rejected INTEGER NOT NULL
);
CREATE TABLE posts (
    platform VARCHAR NOT NULL,
    post_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    published_at TIMESTAMP NOT NULL,
    is_original BOOLEAN,
    forms VARCHAR[],
    title VARCHAR,
    text VARCHAR,
    url VARCHAR,
    position INTEGER,
    batch_id INTEGER,
    PRIMARY KEY (platform, post_id)
);
CREATE TABLE snapshots (
    platform VARCHAR NOT NULL,
    post_id VARCHAR NOT NULL,
    observed_at TIMESTAMP,
    reposts BIGINT, comments BIGINT, likes BIGINT, reads BIGINT,
    wows BIGINT, shares BIGINT, plays BIGINT, collects BIGINT,
    batch_id INTEGER
);
"""

# Schema 2: account lifecycle (active, opened_at) for oversight, hashtags per post,
# richer batch records, and an index for the snapshot merge.
SCHEMA_2 = """
ALTER TABLE accounts ADD COLUMN active BOOLEAN DEFAULT TRUE;
UPDATE accounts SET active = TRUE WHERE active IS NULL;
ALTER TABLE accounts ADD COLUMN opened_at DATE;
ALTER TABLE accounts ADD COLUMN updated_at TIMESTAMP;
ALTER TABLE import_batches ADD COLUMN file_path VARCHAR;
ALTER TABLE import_batches ADD COLUMN unchanged INTEGER DEFAULT 0;
UPDATE import_batches SET unchanged = 0 WHERE unchanged IS NULL;
ALTER TABLE import_batches ADD COLUMN platform VARCHAR;
CREATE TABLE post_hashtags (
    platform VARCHAR NOT NULL,
    post_id VARCHAR NOT NULL,
    hashtag VARCHAR NOT NULL,
    PRIMARY KEY (platform, post_id, hashtag)
);
CREATE INDEX snapshots_post ON snapshots (platform, post_id);
"""

MIGRATIONS: list[str] = [SCHEMA_1, SCHEMA_2]
CURRENT_VERSION = len(MIGRATIONS)

# Tables in dependency order, as moved by `db export` / `db import`.
TABLES = [
    "organizations",
    "accounts",
    "import_batches",
    "posts",
    "snapshots",
    "post_hashtags",
]
