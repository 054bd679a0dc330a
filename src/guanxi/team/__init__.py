"""The team's pages on accounts: signing in and out, each person's language and password,
the workspace's members, roles and API tokens, and its JSON API (the workspace, the audit
log)."""
