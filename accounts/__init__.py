"""Who is asking, and what they may read: users and groups, passwords, API keys, login sessions,
CSRF tokens, the login rate limit and the audit log, for `localgpt serve` and its CLI (users, grant,
keys). The records live in the index's own store (index/accounts_store.py)."""
