"""After-sales back office for TikTok Shop sellers: the core.

`domain` (pure rules) < `store` (persistence, unit of work) < `commands` (use cases) < `inbox`
(the webhook delivery log); `settings` reads the environment for the edges (api, webhooks,
scheduler). docs/architecture.md draws the layers and follows one request through them.
"""
