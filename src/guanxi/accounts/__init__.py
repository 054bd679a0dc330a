"""People and permissions: users, workspaces, memberships, API tokens and the audit log."""
