"""Small builders of catalog rows for tests, with real image files written through the default storage."""

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from catalog.client import stored_image_name
from catalog.models import Category, ImageKind, ImageStatus, Product, ProductChange, ProductImage, Review
from catalog.payload import search_text
from catalog.persistence import category_name
from tests.payloads import image_bytes

CENT = Decimal("0.01")
THUMBNAIL_SIZE = (30, 30)
GALLERY_SIZE = (64, 48)


def make_category(slug: str = "beauty", name: str = "") -> Category:
    """The category with this slug, created on first use."""
    category, _ = Category.objects.get_or_create(slug=slug, defaults={"name": name or category_name(slug)})
    return category


def make_image(
    product: Product,
    *,
    kind: str = ImageKind.IMAGE,
    position: int = 1,
    size: tuple[int, int] = GALLERY_SIZE,
    image_format: str = "WEBP",
    status: str = ImageStatus.STORED,
) -> ProductImage:
    """An image row; a stored one has a real file in MEDIA_ROOT with its true size."""
    row = ProductImage(
        product=product,
        kind=kind,
        position=position,
        source_url=f"https://cdn.dummyjson.com/product-images/{product.id}/{kind}-{position}.webp",
        status=status,
    )
    if status == ImageStatus.STORED:
        data = image_bytes(image_format, size)
        name = stored_image_name(product.id, kind, position, image_format)
        row.file.name = default_storage.save(name, ContentFile(data))
        row.bytes, row.format, (row.width, row.height) = len(data), image_format, size
    row.save()
    return row


def make_product(  # pylint: disable=redefined-builtin,too-many-arguments,too-many-locals
    id: int = 7,  # noqa: A002  # named as the model's field, like every other argument here
    *,
    title: str = "Velvet Matte Lip Tint",
    price: str | Decimal = "12.49",
    discount: str | Decimal = "0",
    category: str | Category = "beauty",
    brand: str = "Lumen",
    description: str = "",
    tags: list[str] | None = None,
    rating: str | Decimal = "4.50",
    stock: int = 10,
    is_published: bool = True,
    with_images: bool = False,
    gallery_size: int = 2,
    last_synced_at: datetime | None = None,
    first_seen_at: datetime | None = None,
    **fields,
) -> Product:
    """A product as a sync would store it; ``with_images`` adds a stored thumbnail and gallery."""
    now = timezone.now()
    price, discount, tags = Decimal(price), Decimal(discount), tags or []
    product = Product.objects.create(
        id=id,
        title=title,
        description=description,
        category=category if isinstance(category, Category) else make_category(category),
        price=price,
        discount_percentage=discount,
        final_price=(price * (100 - discount) / 100).quantize(CENT, rounding=ROUND_HALF_UP),
        brand=brand,
        tags=tags,
        rating=Decimal(rating),
        stock=stock,
        search_text=search_text(title, description, brand, " ".join(tags)),
        raw_sha256="0" * 64,
        first_seen_at=first_seen_at or now - timedelta(days=30),
        last_synced_at=last_synced_at or now,
        is_published=is_published,
        unpublished_reason="" if is_published else "gone upstream",
        **fields,
    )
    if with_images:
        make_image(product, kind=ImageKind.THUMBNAIL, position=0, size=THUMBNAIL_SIZE)
        for position in range(1, gallery_size + 1):
            make_image(product, position=position)
    return product


def make_products(count: int, *, start: int = 1, **fields) -> list[Product]:
    """``count`` products with ids from ``start``, titled "Product <id>"."""
    return [
        make_product(product_id, title=f"Product {product_id}", **fields) for product_id in range(start, start + count)
    ]


def make_price_change(product: Product, *, old: str, new: str, at: datetime, run_id: str = "run-1") -> ProductChange:
    """A price change in the product's history, stored as a sync stores it (prices as text)."""
    return ProductChange.objects.create(
        product=product, field="price", old_value=old, new_value=new, run_id=run_id, changed_at=at
    )


def make_review(product: Product, *, rating: int = 5, comment: str = "Lovely colour!", reviewer: str = "Ana Souza"):
    """A review as a sync stores it: no e-mail."""
    return Review.objects.create(
        product=product,
        rating=rating,
        comment=comment,
        reviewer_name=reviewer,
        date=timezone.now() - timedelta(days=2),
    )
