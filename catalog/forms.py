"""The product list's filter form: GET parameters in, a ProductFilters for the selector out."""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .selectors import ProductFilters

MAX_QUERY_LENGTH = 100
MAX_PRICE_DIGITS = 12
SORT_CHOICES = [
    ("", _("Featured")),
    ("price", _("Price: low to high")),
    ("-price", _("Price: high to low")),
    ("rating", _("Rating: low to high")),
    ("-rating", _("Rating: high to low")),
    ("title", _("Title: A to Z")),
    ("-discount", _("Biggest discount")),
    ("newest", _("Newest first")),
]


class OnOffCheckbox(forms.CheckboxInput):
    """A checkbox whose ``0``, ``false`` and ``off`` mean unticked, so ``in_stock=0`` in a link does what it says."""

    def value_from_datadict(self, data: Mapping[str, Any], files: Mapping[str, Any], name: str) -> bool:
        return str(data.get(name, "")).strip().lower() not in {"", "0", "false", "off"}


class NumberOnlyInput(forms.NumberInput):
    """A number input that leaves out a value which is not a number ("abc"): HTML allows none there,
    and a browser would not show it anyway; the field's error message still names the problem."""

    def format_value(self, value: Any) -> str | None:
        formatted = super().format_value(value)
        try:
            return formatted if formatted is None or Decimal(formatted).is_finite() else None
        except InvalidOperation:
            return None


class ProductFilterForm(forms.Form):
    """Every field is optional; a bad value is reported on its field and then ignored."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=MAX_QUERY_LENGTH,
        widget=forms.SearchInput(attrs={"placeholder": _("Title, brand, tag…")}),
    )
    category = forms.SlugField(label=_("Category"), required=False, max_length=100, widget=forms.Select)
    brand = forms.CharField(label=_("Brand"), required=False, max_length=200, widget=forms.Select)
    min_price = forms.DecimalField(
        label=_("Minimum price"),
        required=False,
        min_value=Decimal(0),
        max_digits=MAX_PRICE_DIGITS,
        decimal_places=2,
        widget=NumberOnlyInput,
    )
    max_price = forms.DecimalField(
        label=_("Maximum price"),
        required=False,
        min_value=Decimal(0),
        max_digits=MAX_PRICE_DIGITS,
        decimal_places=2,
        widget=NumberOnlyInput,
    )
    in_stock = forms.BooleanField(label=_("In stock only"), required=False, widget=OnOffCheckbox(attrs={"value": "1"}))
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # labels sit above their fields; a colon adds nothing
        super().__init__(*args, **kwargs)
        for name in ("category", "brand"):
            # HTML allows no maxlength on a <select>; the field still checks the length it is sent.
            self.fields[name].widget.attrs.pop("maxlength", None)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", _("The maximum price must not be below the minimum price."))
        return cleaned

    def set_choices(self, *, categories: list[tuple[str, str]], brands: list[str]) -> None:
        """Fill the category and brand menus; a chosen value stays listed even when it matches nothing."""
        chosen_category, chosen_brand = self.cleaned_data.get("category"), self.cleaned_data.get("brand")
        if chosen_category and chosen_category not in dict(categories):
            categories = [*categories, (chosen_category, chosen_category)]
        if chosen_brand and chosen_brand not in brands:
            brands = [*brands, chosen_brand]
        self.fields["category"].widget.choices = [("", _("All categories")), *categories]
        self.fields["brand"].widget.choices = [("", _("All brands")), *((brand, brand) for brand in brands)]

    def filters(self) -> ProductFilters:
        """The valid values as filters; a field that failed validation is left out."""
        data = self.cleaned_data
        return ProductFilters(
            query=data.get("q") or "",
            category=data.get("category") or "",
            brand=data.get("brand") or "",
            min_price=data.get("min_price"),
            max_price=data.get("max_price"),
            in_stock=bool(data.get("in_stock")),
            sort=data.get("sort") or "",
        )
