"""The shop's brand: its name, logo, accent colour, sender and signature, as customers see them.

The words live in the settings (edited on /admin/settings, each change audited); the logo is
uploaded, checked by its content with Pillow, made afresh (so nothing but pixels survives: no
metadata, no script, no trailing bytes) and kept in the database under its digest.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.models import BrandLogo, Setting, User
from surveys.services.audit import record_admin_change
from surveys.services.settings import all_settings

# What a logo upload may weigh before it is even looked at (below the 1 MiB any request body
# may have), and how large it is kept: shown about 40 pixels high, so 600×200 stays sharp on a
# phone's dense screen.
LOGO_MAX_BYTES = 512 * 1024
LOGO_KEPT_SIZE = (600, 200)
# An image that claims more pixels than this is refused before it is decoded (a "bomb").
LOGO_MAX_PIXELS = 40_000_000
# Pillow's name for each format we take, and how it is served.
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
LOGO_SETTING = "logo_digest"


class LogoRefused(ValueError):
    """The upload is not a logo we keep; the message says why, in the admin's words."""


@dataclass(frozen=True)
class Brand:
    """What customers see of the shop, with the defaults filled in."""

    shop_name: str
    sender_name: str
    sender_address: str | None
    accent_colour: str
    signature: str
    logo_digest: str | None
    logo_width: int | None = None
    logo_height: int | None = None

    @property
    def signature_lines(self) -> list[str]:
        """How the shop signs its emails, line by line ("Warmly," and the shop's name)."""
        # The default signs in the reader's language; a shop's own signature is kept as written.
        text = self.signature or _("Warmly,") + "\n" + self.shop_name
        return [line.rstrip() for line in text.splitlines()]


def current_brand(session: Session, values: dict[str, object] | None = None) -> Brand:
    """The brand as it is now: one query for the settings (unless `values`, all of them, are
    given), one for the logo's size."""
    values = values if values is not None else all_settings(session)
    digest = _logo_digest(session)
    size = None
    if digest:
        size = session.execute(
            select(BrandLogo.width, BrandLogo.height).where(BrandLogo.digest == digest)
        ).first()
    return Brand(
        shop_name=str(values["shop_name"]),
        sender_name=str(values["sender_name"] or values["shop_name"]),
        sender_address=str(values["sender_address"]) or None,
        accent_colour=str(values["accent_colour"]),
        signature=str(values["signature"]),
        logo_digest=digest if size else None,
        logo_width=size.width if size else None,
        logo_height=size.height if size else None,
    )


def _logo_digest(session: Session) -> str | None:
    row = session.get(Setting, LOGO_SETTING)
    return str(row.value) if row is not None and row.value else None


def read_logo(data: bytes) -> tuple[bytes, str, int, int]:
    """The logo as we keep it (content, media type, width, height), or LogoRefused.

    Read by content, never by the file's name: Pillow must recognise a PNG, JPEG or WebP
    picture. SVG is refused, since an SVG is a document that can carry scripts and links.
    """
    if not data:
        raise LogoRefused(_("Choose an image file to upload."))
    if len(data) > LOGO_MAX_BYTES:
        raise LogoRefused(
            _(
                "The file is larger than %(size)s KB, the most a logo may weigh.",
                size=LOGO_MAX_BYTES // 1024,
            )
        )
    if _looks_like_svg(data):
        raise LogoRefused(
            _("SVG logos are not taken: an SVG can carry scripts. Upload a PNG, JPEG or WebP.")
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in LOGO_FORMATS:
                raise LogoRefused(
                    _(
                        "This is a %(format)s image; upload a PNG, JPEG or WebP.",
                        format=image.format,
                    )
                )
            if image.width * image.height > LOGO_MAX_PIXELS:
                raise LogoRefused(_("The image has too many pixels for a logo."))
            image.load()
    except LogoRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LogoRefused(
            _("This file is not a picture we can read: upload a PNG, JPEG or WebP.")
        ) from None
    except (OSError, ValueError, SyntaxError):
        raise LogoRefused(_("This picture is damaged or cut short: upload it again.")) from None
    return _made_afresh(image)


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith(b"<?xml") or b"<svg" in head


def _made_afresh(image: Image.Image) -> tuple[bytes, str, int, int]:
    """Pixels only, at most LOGO_KEPT_SIZE, in the format it came in."""
    kind = image.format or "PNG"
    image.thumbnail(LOGO_KEPT_SIZE)
    if kind == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    elif kind != "JPEG" and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    out = io.BytesIO()
    options = {"JPEG": {"quality": 85, "optimize": True}, "PNG": {"optimize": True}}
    image.save(out, format=kind, **options.get(kind, {"quality": 85}))
    return out.getvalue(), LOGO_FORMATS[kind], image.width, image.height


def replace_logo(session: Session, data: bytes, *, actor: User, now: datetime) -> BrandLogo:
    """Check and keep an uploaded logo, make it the shop's, and audit the change."""
    content, media_type, width, height = read_logo(data)
    digest = hashlib.sha256(content).hexdigest()
    logo = session.scalar(select(BrandLogo).where(BrandLogo.digest == digest))
    if logo is None:
        logo = BrandLogo(
            digest=digest,
            media_type=media_type,
            width=width,
            height=height,
            size=len(content),
            content=content,
            created_at=now,
        )
        session.add(logo)
    _choose_logo(session, digest, actor=actor, now=now)
    return logo


def remove_logo(session: Session, *, actor: User, now: datetime) -> None:
    """Pages and emails from now on show the shop's name alone (kept logos still load)."""
    _choose_logo(session, None, actor=actor, now=now)


def _choose_logo(session: Session, digest: str | None, *, actor: User, now: datetime) -> None:
    before = _logo_digest(session)
    if before == digest:
        return
    row = session.get(Setting, LOGO_SETTING)
    if row is None:
        session.add(Setting(key=LOGO_SETTING, value=digest))
    else:
        row.value = digest
    session.flush()
    record_admin_change(
        session,
        actor_user=actor,
        action="brand.logo_changed",
        target="the shop's logo",
        before={"logo": before},
        after={"logo": digest},
        now=now,
    )


def kept_logo(session: Session, digest: str) -> BrandLogo | None:
    """A logo by its digest, with its content: current or one an old email still shows."""
    return session.scalar(select(BrandLogo).where(BrandLogo.digest == digest))


def accent_dark(colour: str) -> str:
    """The accent a fifth darker, for links and pressed buttons."""
    channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c * 0.8):02x}" for c in channels)


def theme_stylesheet(brand: Brand) -> str:
    """The brand's colours as the custom properties static/app.css reads."""
    accent = brand.accent_colour
    return f":root{{--accent:{accent};--accent-dark:{accent_dark(accent)}}}\n"
