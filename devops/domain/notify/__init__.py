"""Notifications: the events `devops` tells people and systems about, what is sent for them
(Slack incoming webhooks, a JSON webhook signed with HMAC-SHA256) and how a receiver checks
the signature (docs/release.md, "Notifications")."""
