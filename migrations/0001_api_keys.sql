-- API keys. The key itself is never stored: only its SHA-256 (hex). See README "Storage layout".
CREATE TABLE api_keys (
  id          TEXT PRIMARY KEY,          -- UUID v4, the public identity of a key (metrics, audit)
  key_hash    TEXT NOT NULL UNIQUE,      -- hex SHA-256 of the full key; the lookup index
  key_prefix  TEXT NOT NULL,             -- first characters of the key, to recognise it in lists
  name        TEXT NOT NULL,
  policy      TEXT,                      -- JSON policy override, NULL = default policy
  created_at  TEXT NOT NULL,             -- ISO 8601 UTC
  updated_at  TEXT NOT NULL,
  revoked_at  TEXT                       -- set by DELETE /admin/keys/:id; never un-set
) STRICT;
