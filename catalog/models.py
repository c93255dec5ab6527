"""The catalog's copy of DummyJSON: categories, products, their images, reviews and change history."""

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


class RunStatus(models.TextChoices):
    """Where a sync run stands: staged pages are gated before anything reaches the catalog."""

    STAGING = "staging", _("staging")
    GATING = "gating", _("gating")
    HELD = "held", _("held")
    PUBLISHING = "publishing", _("publishing")
    PUBLISHED = "published", _("published")
    FAILED = "failed", _("failed")


class Decision(models.TextChoices):
    """What the publish gate decided."""

    PUBLISHED = "published", _("published")
    HELD = "held", _("held")


class SyncRunQuerySet(models.QuerySet["SyncRun"]):
    """Shortcuts for the admin and the gate."""

    def held(self) -> "SyncRunQuerySet":
        """Runs the gate held and nobody has published since."""
        return self.filter(status=RunStatus.HELD)

    def last_published_complete(self) -> "SyncRun | None":
        """The newest run that published a complete listing: its profile is the default reference."""
        published = self.filter(status=RunStatus.PUBLISHED, complete_listing=True, listing_read_whole=True)
        return published.exclude(profile={}).first()


class SyncRun(models.Model):
    """One sync: its options, its data's profile and the gate's report and decision.

    The profile and the report are the run's artifacts; their sha256 also go on the audit
    record, so a downloaded copy can be checked against the tamper-evident log.
    """

    run_id = models.CharField(_("run id"), max_length=64, unique=True)
    started_at = models.DateTimeField(_("started at"), editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.STAGING)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    complete_listing = models.BooleanField(_("complete listing"), default=False)
    listing_read_whole = models.BooleanField(_("listing read whole"), default=True)
    staged_products = models.PositiveIntegerField(_("staged products"), default=0)
    reference_run_id = models.CharField(_("reference run"), max_length=64, blank=True)
    profile = models.JSONField(_("profile"), default=dict, blank=True)
    profile_sha256 = models.CharField(_("profile sha256"), max_length=64, blank=True)
    report = models.JSONField(_("report"), default=dict, blank=True)
    report_sha256 = models.CharField(_("report sha256"), max_length=64, blank=True)
    accepted_by = models.CharField(_("accepted by"), max_length=150, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    objects = SyncRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["status", "started_at"], name="syncrun_status_started")]

    def __str__(self) -> str:
        return f"{self.run_id} ({self.status})"


class StagedPage(models.Model):
    """One listing page of a run, as received, waiting for the gate: never read by the site."""

    run = models.ForeignKey(SyncRun, models.CASCADE, related_name="pages", verbose_name=_("run"))
    number = models.PositiveIntegerField(_("page"))
    # JSON text, not a JSON column: PostgreSQL's jsonb refuses a NUL (\u0000) that a hostile
    # payload may hold, and the payload must stay exact for validation to reject it later.
    payloads = models.TextField(_("payloads as received (JSON)"), default="[]")
    # The page's mergeable profile summary, so the run's profile never re-reads payloads.
    summary = models.JSONField(_("profile summary"), default=dict)

    class Meta:
        verbose_name = _("staged page")
        verbose_name_plural = _("staged pages")
        ordering = ["run", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="staged_page_unique_number")]

    def __str__(self) -> str:
        return f"{self.run.run_id} page {self.number}"


class RefreshState(models.TextChoices):
    """Where a queued refresh of one product stands."""

    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    MISSING = "missing", _("the source did not return it")
    FAILED = "failed", _("the source did not answer; the stored copy is kept")


class ProductRefresh(models.Model):
    """The latest refresh asked for one product id: at most one is queued per interval, and its answer is kept.

    Page views read this row to decide whether to queue another refresh (single flight) and to
    remember that the source did not have an id (negative cache). Not a foreign key: an id the
    catalog has never stored can be asked for too.
    """

    product_id = models.PositiveIntegerField(_("DummyJSON id"), primary_key=True)
    state = models.CharField(_("state"), max_length=20, choices=RefreshState.choices, default=RefreshState.QUEUED)
    requested_at = models.DateTimeField(_("requested at"))
    requested_by = models.CharField(_("requested by"), max_length=150)
    run_id = models.CharField(_("run id"), max_length=64)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("product refresh")
        verbose_name_plural = _("product refreshes")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.get_state_display()}"


class ScheduledSync(models.Model):
    """One slot of the sync schedule, claimed by the scheduler that queued its sync.

    The slot's start is the primary key, so however many schedulers run, each slot's
    sync is queued once.
    """

    slot = models.DateTimeField(_("slot"), primary_key=True)
    queued_at = models.DateTimeField(_("queued at"))
    task_id = models.CharField(_("task id"), max_length=64)

    class Meta:
        verbose_name = _("scheduled sync")
        verbose_name_plural = _("scheduled syncs")
        ordering = ["-slot"]

    def __str__(self) -> str:
        return f"sync of {self.slot:%Y-%m-%d %H:%M}"


class ShardKind(models.TextChoices):
    """What one shard of a sharded sync covers."""

    PAGE = "page", _("listing page")
    IMAGES = "images", _("image batch")


class ShardState(models.TextChoices):
    """Where one shard stands."""

    PENDING = "pending", _("pending")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class SyncShard(models.Model):
    """One piece of a sharded sync: a listing page or one page's images, run by whichever worker claims it.

    Claiming is a conditional UPDATE, so a shard runs once even when its task and the
    coordinator race for it; a claim older than the lease is taken over (its worker died).
    """

    run_id = models.CharField(_("run id"), max_length=64)
    kind = models.CharField(_("kind"), max_length=10, choices=ShardKind.choices)
    number = models.PositiveIntegerField(_("number"))
    state = models.CharField(_("state"), max_length=10, choices=ShardState.choices, default=ShardState.PENDING)
    skip = models.PositiveIntegerField(_("skip"), default=0)
    limit = models.PositiveIntegerField(_("limit"), default=0)
    product_ids = models.JSONField(_("product ids"), default=list, blank=True)
    payloads = models.JSONField(_("products as received"), null=True, blank=True)
    total = models.IntegerField(_("listing total"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=64, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sync shard")
        verbose_name_plural = _("sync shards")
        ordering = ["run_id", "kind", "number"]
        constraints = [models.UniqueConstraint(fields=["run_id", "kind", "number"], name="sync_shard_unique")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.kind} {self.number}: {self.state}"
