"""Template filters for the catalog pages: prices in the active language, stock levels, machine-readable times."""

from datetime import datetime
from decimal import Decimal

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext

register = template.Library()

LOW_STOCK = 10  # below this many units a product shows "Low stock"
MAX_STARS = 5


@register.filter
def money(value: Decimal | float | None) -> str:
    """A price in US dollars with two decimals, grouped and punctuated for the active language."""
    if value is None or value == "":
        return ""
    amount = formats.number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
    return gettext("$%(amount)s") % {"amount": amount}


@register.filter
def percent(value: Decimal | float | None) -> str:
    """A percentage without trailing zeros, in the active language: 12.50 -> "12.5%" (pt-BR "12,5%")."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value)).normalize()
    return formats.number_format(number, use_l10n=True) + "%"


@register.filter
def stock_level(stock: int | None) -> str:
    """``out``, ``low`` or ``in``: which stock badge a product gets."""
    if not stock or stock <= 0:
        return "out"
    return "low" if stock < LOW_STOCK else "in"


@register.filter
def stars(rating: Decimal | float | None) -> str:
    """A rating out of five as five stars, filled to the nearest whole star: 4.31 -> "★★★★☆"."""
    filled = max(0, min(MAX_STARS, round(float(rating or 0))))
    return "★" * filled + "☆" * (MAX_STARS - filled)


@register.filter
def machine_time(moment: datetime | None) -> str:
    """A ``<time datetime>`` value: ``date:"c"``, but to the millisecond at most, as HTML allows."""
    if not isinstance(moment, datetime):
        return ""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
