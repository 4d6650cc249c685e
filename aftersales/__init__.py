"""After-sales back office for TikTok Shop sellers: the core (domain rules, services, store)."""
