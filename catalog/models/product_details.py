"""What hangs off a product: its images, its reviews and the history of its field changes."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .products import Product


class ImageKind(models.TextChoices):
    """A gallery image or the thumbnail."""

    IMAGE = "image", _("image")
    THUMBNAIL = "thumbnail", _("thumbnail")


class ImageStatus(models.TextChoices):
    """Where an image stands."""

    PENDING = "pending", _("pending download")
    STORED = "stored", _("stored")
    FAILED = "failed", _("failed")
    REJECTED = "rejected", _("rejected")


class ProductImage(models.Model):
    """One gallery image or thumbnail: where it came from and what was stored."""

    product = models.ForeignKey(Product, models.CASCADE, related_name="images", verbose_name=_("product"))
    kind = models.CharField(_("kind"), max_length=10, choices=ImageKind.choices, default=ImageKind.IMAGE)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    source_url = models.CharField(_("source URL"), max_length=2048)
    file = models.FileField(_("file"), max_length=255, blank=True)
    sha256 = models.CharField(_("sha256"), max_length=64, blank=True)
    bytes = models.PositiveIntegerField(_("bytes"), null=True, blank=True)
    format = models.CharField(_("format"), max_length=10, blank=True)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    etag = models.CharField(_("ETag"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ImageStatus.choices, default=ImageStatus.PENDING)
    message = models.CharField(_("message"), max_length=500, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = ["product", "kind", "position"]
        constraints = [
            models.UniqueConstraint(fields=["product", "kind", "position"], name="image_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.kind} {self.position}"


class Review(models.Model):
    """A customer review. The reviewer's e-mail is personal data and is never stored."""

    product = models.ForeignKey(Product, models.CASCADE, related_name="reviews", verbose_name=_("product"))
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True)
    date = models.DateTimeField(_("date"), null=True, blank=True)
    reviewer_name = models.CharField(_("reviewer"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["product", "-date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=0, rating__lte=5), name="review_rating_0_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 by {self.reviewer_name}"


class ProductChange(models.Model):
    """One field of one product changed by one run: the old and the new value."""

    product = models.ForeignKey(Product, models.CASCADE, related_name="changes", verbose_name=_("product"))
    field = models.CharField(_("field"), max_length=50)
    old_value = models.JSONField(_("old value"), null=True)
    new_value = models.JSONField(_("new value"), null=True)
    run_id = models.CharField(_("run id"), max_length=64, db_index=True)
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("product change")
        verbose_name_plural = _("product changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["product", "field", "changed_at"], name="change_product_field_time")]

    def __str__(self) -> str:
        return f"{self.product_id}.{self.field}: {self.old_value!r} -> {self.new_value!r}"
