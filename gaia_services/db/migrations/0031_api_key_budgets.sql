-- API keys may carry a spend limit: max_budget US dollars per budget_duration ('30d', '12h', …; NULL: over the
-- key's whole life). The spend itself is counted in Redis, from the same costs as usage_records.
ALTER TABLE api_keys
    ADD COLUMN max_budget NUMERIC(14, 6),
    ADD COLUMN budget_duration VARCHAR(16);
COMMENT ON COLUMN api_keys.max_budget IS 'US dollars the key may spend per budget_duration; NULL for no key budget.';
COMMENT ON COLUMN api_keys.budget_duration IS 'How often the key''s spend resets (e.g. 30d, 12h); NULL: never.';
