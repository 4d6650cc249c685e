"""Developer tools, not the service: a stand-in TikTok Shop API (`sandbox`, run as
`aftersales tiktok-sandbox`) and a generator of signed webhook traffic (`simulate` and `traffic`,
run as `aftersales simulate`). They sit above the core and below `api` (whose CLI runs them);
nothing in `aftersales`, `webhooks` or `scheduler` imports them."""
