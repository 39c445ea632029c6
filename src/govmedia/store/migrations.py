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

# Schema 3: what the evaluation needs besides posts — innovation cases (创新案例), linkage
# campaigns (联动宣传) with their hashtags and explicit participations — and the stored
# monthly scores with the methodology that produced them.
SCHEMA_3 = """
CREATE TABLE cases (
    case_id VARCHAR PRIMARY KEY,
    title VARCHAR NOT NULL,
    month VARCHAR NOT NULL,
    category VARCHAR,
    unit VARCHAR,
    score DOUBLE NOT NULL,
    platform VARCHAR NOT NULL,
    text VARCHAR
);
CREATE TABLE case_accounts (
    case_id VARCHAR NOT NULL,
    platform VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    PRIMARY KEY (case_id, platform, account_id)
);
CREATE TABLE campaigns (
    campaign_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE NOT NULL
);
CREATE TABLE campaign_hashtags (
    campaign_id VARCHAR NOT NULL,
    hashtag VARCHAR NOT NULL,
    PRIMARY KEY (campaign_id, hashtag)
);
CREATE TABLE campaign_participations (
    campaign_id VARCHAR NOT NULL,
    platform VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    month VARCHAR NOT NULL,
    PRIMARY KEY (campaign_id, platform, account_id, month)
);
CREATE TABLE monthly_scores (
    platform VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    month VARCHAR NOT NULL,
    posts BIGINT NOT NULL,
    originals BIGINT NOT NULL,
    reach_raw DOUBLE NOT NULL,
    engagement_raw DOUBLE NOT NULL,
    innovation_raw DOUBLE NOT NULL,
    influence_raw DOUBLE NOT NULL,
    reach DOUBLE NOT NULL,
    engagement DOUBLE NOT NULL,
    innovation DOUBLE NOT NULL,
    influence DOUBLE NOT NULL,
    total DOUBLE NOT NULL,
    methodology VARCHAR NOT NULL,
    methodology_sha256 VARCHAR NOT NULL,
    computed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (platform, account_id, month)
);
"""

# Schema 4: people who sign in to the web platform, and the audit log of every change.
SCHEMA_4 = """
CREATE TABLE users (
    username VARCHAR PRIMARY KEY,
    password_hash VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE audit_log (
    entry_id INTEGER PRIMARY KEY,
    logged_at TIMESTAMP NOT NULL,
    username VARCHAR,
    action VARCHAR NOT NULL,
    detail VARCHAR
);
"""

# Oversight (issue 6): comments as MediaCrawler exports them (for the interaction-response rule),
# and the stored inspection checks — one run per check point, one row per inspected account,
# one row per dictionary match — that the web page and the reports read.
SCHEMA_OVERSIGHT = """
CREATE TABLE comments (
    platform VARCHAR NOT NULL,
    comment_id VARCHAR NOT NULL,
    post_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    author_id VARCHAR NOT NULL,
    author_sec_uid VARCHAR,
    parent_comment_id VARCHAR,
    commented_at TIMESTAMP NOT NULL,
    text VARCHAR,
    observed_at TIMESTAMP,
    batch_id INTEGER,
    PRIMARY KEY (platform, comment_id)
);
CREATE INDEX comments_account ON comments (platform, account_id);
CREATE TABLE check_runs (
    check_at DATE PRIMARY KEY,
    at_utc TIMESTAMP NOT NULL,
    rules_name VARCHAR NOT NULL,
    rules_sha256 VARCHAR NOT NULL,
    dictionaries_sha256 VARCHAR NOT NULL,
    run_at TIMESTAMP NOT NULL,
    inspected INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    inactive INTEGER NOT NULL,
    not_open INTEGER NOT NULL
);
CREATE TABLE check_results (
    check_at DATE NOT NULL,
    platform VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    region VARCHAR,
    category VARCHAR NOT NULL,
    opened_at DATE,
    last_post_at TIMESTAMP,
    days_without_update INTEGER,
    status VARCHAR NOT NULL,
    alert BOOLEAN NOT NULL,
    alert_date DATE,
    posts_window INTEGER NOT NULL,
    original_share DOUBLE,
    user_comments INTEGER,
    answered INTEGER,
    response_share DOUBLE,
    median_response_hours DOUBLE,
    serious_errors INTEGER NOT NULL,
    sensitive_words INTEGER NOT NULL,
    verdict VARCHAR NOT NULL,
    reasons VARCHAR NOT NULL,
    PRIMARY KEY (check_at, platform, account_id)
);
CREATE TABLE check_findings (
    check_at DATE NOT NULL,
    platform VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    post_id VARCHAR NOT NULL,
    published_at TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    start_offset INTEGER NOT NULL,
    matched VARCHAR NOT NULL,
    correction VARCHAR,
    category VARCHAR,
    note VARCHAR,
    excerpt VARCHAR
);
CREATE INDEX check_findings_at ON check_findings (check_at, platform, account_id);
"""

# Snapshot age: microseconds from the post's publication to the observation (NULL for the
# undated snapshot), kept by the writer. The scoring orders a post's snapshots by it without
# joining the posts first, and with an exact integer key. The methodology's window is not
# stored: it is compared at scoring time.
SCHEMA_SNAPSHOT_AGE = """
ALTER TABLE snapshots ADD COLUMN age_us BIGINT;
UPDATE snapshots SET age_us = epoch_us(snapshots.observed_at) - epoch_us(p.published_at)
FROM posts p
WHERE p.platform = snapshots.platform AND p.post_id = snapshots.post_id AND snapshots.observed_at IS NOT NULL;
"""

# The methodology in force: every methodology text that scored something is kept (by its
# sha256), and `settings` names the one in force, so that reads need not be told the file again.
SCHEMA_METHODOLOGY = """
CREATE TABLE methodologies (
    sha256 VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE TABLE settings (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
"""

# Jobs: long work started from the site (an upload's import, a rescore, a check) runs in the
# background; its state, progress and result are kept so that the job page survives a reload
# and a restart can say which jobs were interrupted. params/progress/result are JSON text.
SCHEMA_JOBS = """
CREATE TABLE jobs (
    job_id INTEGER PRIMARY KEY,
    kind VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    who VARCHAR,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    params VARCHAR NOT NULL,
    progress VARCHAR,
    result VARCHAR,
    error VARCHAR
);
"""

# Months whose posts changed after their scores were computed (an import with rescoring turned
# off, or one killed before its rescore): pages say so, and since when, until a rescore.
SCHEMA_STALE = """
CREATE TABLE stale_months (
    month VARCHAR PRIMARY KEY,
    since TIMESTAMP NOT NULL
);
"""

# Merging sources: per post (and its account, which lets a file's write read only its accounts'
# rows) and attribute, the merge key of the stored value (native before derived,
# newer observation before older, then a hash of the value), so that a value another source does
# not carry never overwrites a known one and the store does not depend on the order of imports.
# Posts stored before get keys as undated derived values. Jobs record the process running them
# (host:pid), so that a restarted site process marks only the jobs of processes that are gone.
SCHEMA_MERGE = """
CREATE TABLE post_merge (
    platform VARCHAR NOT NULL,
    post_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    k_published_at VARCHAR, k_is_original VARCHAR, k_forms VARCHAR, k_title VARCHAR, k_text VARCHAR,
    k_url VARCHAR, k_position VARCHAR,
    PRIMARY KEY (platform, post_id)
);
INSERT INTO post_merge
SELECT platform, post_id, account_id,
    '1|00000000000000000000|' || md5(published_at::VARCHAR),
    CASE WHEN is_original IS NULL THEN NULL ELSE '1|00000000000000000000|' || md5(is_original::VARCHAR) END,
    CASE WHEN forms IS NULL OR len(forms) = 0 THEN NULL ELSE '1|00000000000000000000|' || md5(forms::VARCHAR) END,
    CASE WHEN title IS NULL THEN NULL ELSE '1|00000000000000000000|' || md5(title::VARCHAR) END,
    CASE WHEN text IS NULL THEN NULL ELSE '1|00000000000000000000|' || md5(text::VARCHAR) END,
    CASE WHEN url IS NULL THEN NULL ELSE '1|00000000000000000000|' || md5(url::VARCHAR) END,
    CASE WHEN position IS NULL THEN NULL ELSE '1|00000000000000000000|' || md5(position::VARCHAR) END
FROM posts;
ALTER TABLE jobs ADD COLUMN runner VARCHAR;
"""

# Bilibili's coins (投币) and danmaku (弹幕).
SCHEMA_METRICS = """
ALTER TABLE snapshots ADD COLUMN coins BIGINT;
ALTER TABLE snapshots ADD COLUMN danmaku BIGINT;
"""

# Revocable sessions: a signed-in cookie carries its user's session version and is honoured only
# while it matches; logout, a role or password change, deactivation and "end all sessions" bump it.
SCHEMA_SESSIONS = """
ALTER TABLE users ADD COLUMN session_version INTEGER DEFAULT 0;
UPDATE users SET session_version = 0;
"""

# A case's posts and hashtags (besides its credited accounts): the report cites their figures.
SCHEMA_CASE_LINKS = """
CREATE TABLE case_posts (
    case_id VARCHAR NOT NULL,
    platform VARCHAR NOT NULL,
    post_id VARCHAR NOT NULL,
    PRIMARY KEY (case_id, platform, post_id)
);
CREATE TABLE case_hashtags (
    case_id VARCHAR NOT NULL,
    hashtag VARCHAR NOT NULL,
    PRIMARY KEY (case_id, hashtag)
);
"""

# The merge keys kept in posts, as the parts the values do not hold: a bit per attribute for a value
# its source states itself (bit i: core.rows.MERGED[i]) and per attribute the observation time of
# the value (NULL: undated or no value); the hash part is taken from the stored value when a file
# merges. A file of new posts then writes no key (a 200,000-row file: 0.75 s less).
SCHEMA_MERGE_IN_POSTS = """
ALTER TABLE posts ADD COLUMN merge_native SMALLINT;
ALTER TABLE posts ADD COLUMN merge_published_at TIMESTAMP;
ALTER TABLE posts ADD COLUMN merge_is_original TIMESTAMP;
ALTER TABLE posts ADD COLUMN merge_forms TIMESTAMP;
ALTER TABLE posts ADD COLUMN merge_title TIMESTAMP;
ALTER TABLE posts ADD COLUMN merge_text TIMESTAMP;
ALTER TABLE posts ADD COLUMN merge_url TIMESTAMP;
ALTER TABLE posts ADD COLUMN merge_position TIMESTAMP;
UPDATE posts SET
    merge_native = CAST((CASE WHEN starts_with(m.k_published_at, '2') THEN 1 ELSE 0 END) + (CASE WHEN starts_with(m.k_is_original, '2') THEN 2 ELSE 0 END) + (CASE WHEN starts_with(m.k_forms, '2') THEN 4 ELSE 0 END) + (CASE WHEN starts_with(m.k_title, '2') THEN 8 ELSE 0 END) + (CASE WHEN starts_with(m.k_text, '2') THEN 16 ELSE 0 END) + (CASE WHEN starts_with(m.k_url, '2') THEN 32 ELSE 0 END) + (CASE WHEN starts_with(m.k_position, '2') THEN 64 ELSE 0 END) AS SMALLINT),
    merge_published_at = CASE WHEN m.k_published_at IS NULL OR substr(m.k_published_at, 3, 20) = '00000000000000000000' THEN NULL ELSE strptime(substr(m.k_published_at, 3, 20), '%Y%m%d%H%M%S%f') END,
    merge_is_original = CASE WHEN m.k_is_original IS NULL OR substr(m.k_is_original, 3, 20) = '00000000000000000000' THEN NULL ELSE strptime(substr(m.k_is_original, 3, 20), '%Y%m%d%H%M%S%f') END,
    merge_forms = CASE WHEN m.k_forms IS NULL OR substr(m.k_forms, 3, 20) = '00000000000000000000' THEN NULL ELSE strptime(substr(m.k_forms, 3, 20), '%Y%m%d%H%M%S%f') END,
    merge_title = CASE WHEN m.k_title IS NULL OR substr(m.k_title, 3, 20) = '00000000000000000000' THEN NULL ELSE strptime(substr(m.k_title, 3, 20), '%Y%m%d%H%M%S%f') END,
    merge_text = CASE WHEN m.k_text IS NULL OR substr(m.k_text, 3, 20) = '00000000000000000000' THEN NULL ELSE strptime(substr(m.k_text, 3, 20), '%Y%m%d%H%M%S%f') END,
    merge_url = CASE WHEN m.k_url IS NULL OR substr(m.k_url, 3, 20) = '00000000000000000000' THEN NULL ELSE strptime(substr(m.k_url, 3, 20), '%Y%m%d%H%M%S%f') END,
    merge_position = CASE WHEN m.k_position IS NULL OR substr(m.k_position, 3, 20) = '00000000000000000000' THEN NULL ELSE strptime(substr(m.k_position, 3, 20), '%Y%m%d%H%M%S%f') END
FROM post_merge m
WHERE m.platform = posts.platform AND m.post_id = posts.post_id;
DROP TABLE post_merge;
"""

# Indexes that no read uses, dropped: they cost a third of writing a file of new posts (a 200,000-row
# file: 0.6 s of 1.8 s). Reads join snapshots and topics by hash, never by these. The writer keeps
# each post's topics once (new posts' topics DISTINCT, a merge's less the stored ones; one writer at
# a time, store.access), and the posts key stays: a merge upserts on it.
SCHEMA_LEAN_INDEXES = """
DROP INDEX snapshots_post;
CREATE TABLE post_hashtags_kept (
    platform VARCHAR NOT NULL,
    post_id VARCHAR NOT NULL,
    hashtag VARCHAR NOT NULL
);
INSERT INTO post_hashtags_kept SELECT DISTINCT platform, post_id, hashtag FROM post_hashtags;
DROP TABLE post_hashtags;
ALTER TABLE post_hashtags_kept RENAME TO post_hashtags;
"""

# An account's 停用日期: a deactivated account leaves the rankings and counts of periods that start
# after it. Accounts deactivated before keep no date (unknown): they are treated as before.
SCHEMA_DEACTIVATED = """
ALTER TABLE accounts ADD COLUMN deactivated_on DATE;
"""

MIGRATIONS: list[str] = [SCHEMA_1, SCHEMA_2, SCHEMA_3, SCHEMA_4, SCHEMA_OVERSIGHT, SCHEMA_SNAPSHOT_AGE,
                         SCHEMA_METHODOLOGY, SCHEMA_JOBS, SCHEMA_STALE, SCHEMA_MERGE, SCHEMA_METRICS,
                         SCHEMA_SESSIONS, SCHEMA_CASE_LINKS, SCHEMA_MERGE_IN_POSTS,
                         SCHEMA_LEAN_INDEXES, SCHEMA_DEACTIVATED]
CURRENT_VERSION = len(MIGRATIONS)

# Tables in dependency order, as moved by `db export` / `db import`.
TABLES = [
    "organizations",
    "accounts",
    "import_batches",
    "posts",
    "snapshots",
    "post_hashtags",
    "cases",
    "case_accounts",
    "case_posts",
    "case_hashtags",
    "campaigns",
    "campaign_hashtags",
    "campaign_participations",
    "monthly_scores",
    "comments",
    "check_runs",
    "check_results",
    "check_findings",
    "methodologies",
    "settings",
    "jobs",
    "stale_months",
]
