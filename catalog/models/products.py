"""Categories and products: the catalog's validated copy of DummyJSON, with the indexes the list page seeks by."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A DummyJSON category, known by its slug."""

    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


PUBLISHED = Q(is_published=True)


class ProductQuerySet(models.QuerySet["Product"]):
    """Shortcuts for the products people may see."""

    def published(self) -> "ProductQuerySet":
        """Valid and still listed upstream."""
        return self.filter(is_published=True)


class Product(models.Model):
    """One product, as last validated; the raw payload it came from is kept beside it
    (less reviewers' e-mail addresses; ``raw_sha256`` is over the payload as received).

    The primary key is the DummyJSON id, so URLs, audit events and the API agree.
    ``last_run_id`` names the sync or page request whose data this row holds.
    """

    id = models.PositiveIntegerField(_("DummyJSON id"), primary_key=True)
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(Category, models.PROTECT, related_name="products", verbose_name=_("category"))
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    discount_percentage = models.DecimalField(_("discount %"), max_digits=5, decimal_places=2, default=Decimal(0))
    final_price = models.DecimalField(_("final price"), max_digits=12, decimal_places=2)
    rating = models.DecimalField(_("rating"), max_digits=3, decimal_places=2, default=Decimal(0))
    stock = models.IntegerField(_("stock"), default=0)
    brand = models.CharField(_("brand"), max_length=200, blank=True)
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    weight = models.FloatField(_("weight"), null=True, blank=True)
    width = models.FloatField(_("width"), null=True, blank=True)
    height = models.FloatField(_("height"), null=True, blank=True)
    depth = models.FloatField(_("depth"), null=True, blank=True)
    warranty_information = models.CharField(_("warranty"), max_length=255, blank=True)
    shipping_information = models.CharField(_("shipping"), max_length=255, blank=True)
    return_policy = models.CharField(_("return policy"), max_length=255, blank=True)
    availability_status = models.CharField(_("availability"), max_length=50, blank=True)
    minimum_order_quantity = models.PositiveIntegerField(_("minimum order"), null=True, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    barcode = models.CharField(_("barcode"), max_length=64, blank=True)
    source_created_at = models.DateTimeField(_("created upstream"), null=True, blank=True)
    source_updated_at = models.DateTimeField(_("updated upstream"), null=True, blank=True)
    # Lower-cased, accent-free title, description, brand and tags, for search.
    search_text = models.TextField(editable=False, blank=True)

    raw = models.JSONField(_("payload as received"), default=dict)
    raw_sha256 = models.CharField(_("payload sha256"), max_length=64)
    etag = models.CharField(_("ETag"), max_length=200, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_synced_at = models.DateTimeField(_("last synced"))
    last_run_id = models.CharField(_("last run id"), max_length=64, blank=True)
    is_published = models.BooleanField(_("published"), default=True)
    unpublished_reason = models.CharField(_("why unpublished"), max_length=255, blank=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(final_price__gte=0), name="product_final_price_not_negative"),
            models.CheckConstraint(condition=Q(rating__gte=0, rating__lte=5), name="product_rating_0_to_5"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_percentage__gte=0, discount_percentage__lte=100),
                name="product_discount_0_to_100",
            ),
        ]
        # One index per sort of the list page, in its exact order (catalog/keyset.py), so any page
        # seeks straight to its first row; the newest-first and search indexes are in vendor_indexes.py.
        # Partial (published rows only): the list never shows others, and SQLite can use no index
        # whose first column is a bare boolean.
        indexes = [
            models.Index(fields=["is_published", "category"], name="product_published_category"),
            models.Index(fields=["id"], condition=PUBLISHED, name="product_published_id"),
            models.Index(fields=["final_price", "id"], condition=PUBLISHED, name="product_published_price"),
            models.Index(fields=["-final_price", "id"], condition=PUBLISHED, name="product_published_price_desc"),
            models.Index(fields=["rating", "id"], condition=PUBLISHED, name="product_published_rating"),
            models.Index(fields=["-rating", "id"], condition=PUBLISHED, name="product_published_rating_desc"),
            models.Index(fields=["title", "id"], condition=PUBLISHED, name="product_published_title"),
            models.Index(fields=["-discount_percentage", "id"], condition=PUBLISHED, name="product_published_discount"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (#{self.id})"

    def get_absolute_url(self) -> str:
        """The product's page."""
        return reverse("catalog:product_detail", args=[self.id])
