"""TikTok Shop and logistics-feed webhooks: signature check, size limit, envelope parsing, then
the core's inbox (aftersales.inbox) records and applies each delivery."""
