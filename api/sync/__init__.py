"""Talking to TikTok from GraphQL: reject reasons, a sync on demand, a failed sync retried."""
