"""Webhooks in: SendGrid events, Shopify orders, Stripe checkouts."""
