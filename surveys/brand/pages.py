"""What a customer's page shows of the brand: the shop's name, its logo and its colours."""

from __future__ import annotations

from flask import url_for

from surveys.brand.views import theme_fingerprint
from surveys.services.brand import Brand, theme_stylesheet


def brand_page_variables(brand: Brand) -> dict:
    """The variables public/_layout.html reads (a stylesheet, not inline style: see the CSP)."""
    return {
        "brand": brand,
        "sender_name": brand.shop_name,
        "shop_name": brand.shop_name,
        "logo_url": (
            url_for("brand.show_logo", digest=brand.logo_digest) if brand.logo_digest else None
        ),
        "theme_url": url_for(
            "brand.show_theme", fingerprint=theme_fingerprint(theme_stylesheet(brand))
        ),
    }
