-- sealhook schema, version 4: an idempotency key remembers the request it was used for.
--  - request_hash: SHA-256 (hex) of the publish that reserved the key (its target tenant, event
--    type and payload text; see src/publish/request_hash.hpp). The same key with another
--    request answers 422 idempotency_key_reused.
--  - Rows written before this version have '' (unknown): they keep answering their recorded
--    answer to any request with their key, as they did, until they expire (24 h after use).
ALTER TABLE idempotency ADD COLUMN request_hash TEXT NOT NULL DEFAULT '';
