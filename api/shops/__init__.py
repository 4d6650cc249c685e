"""The caller's TikTok shops in GraphQL."""
