"""The mirror's products: the real 194 DummyJSON products, then deterministic generated ones.

By default (``dataset="real"``) ids 1..194 are the real products, vendored in
``mirror/data`` so the mirror never needs the network, with their image URLs moved to
the mirror; ids beyond 194 (``--scale 10000``) are generated. ``dataset="synthetic"``
generates every product, in the real category layout, from the seed.
"""

from __future__ import annotations

import bisect
import functools
import gzip
import itertools
import json
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

DEFAULT_SEED = 42
DEFAULT_SCALE = 194
DEFAULT_BASE_URL = "http://127.0.0.1:8001"
REAL, SYNTHETIC = "real", "synthetic"
DATASETS = (REAL, SYNTHETIC)
DEFAULT_DATASET = REAL
REAL_PRODUCTS_PATH = Path(__file__).resolve().parent / "data" / "dummyjson-products.json.gz"
# Every URL in the real data starts with this; the mirror serves the same paths itself.
UPSTREAM_CDN = "https://cdn.dummyjson.com"

# The real API's 24 category slugs with its product count per category (sums to 194);
# other scales keep these proportions.
# fmt: off
CATEGORY_COUNTS: tuple[tuple[str, int], ...] = (
    ("beauty", 5), ("fragrances", 5), ("furniture", 5), ("groceries", 27), ("home-decoration", 5),
    ("kitchen-accessories", 30), ("laptops", 5), ("mens-shirts", 5), ("mens-shoes", 5), ("mens-watches", 6),
    ("mobile-accessories", 14), ("motorcycle", 5), ("skin-care", 3), ("smartphones", 16),
    ("sports-accessories", 17), ("sunglasses", 5), ("tablets", 3), ("tops", 5), ("vehicle", 5),
    ("womens-bags", 5), ("womens-dresses", 5), ("womens-jewellery", 3), ("womens-shoes", 5), ("womens-watches", 5),
)
CATEGORIES: tuple[str, ...] = tuple(slug for slug, _ in CATEGORY_COUNTS)
_REAL_TOTAL = sum(count for _, count in CATEGORY_COUNTS)

# Invented vocabulary: (tag, lowest price, highest price, nouns) per category.
_VOCAB: dict[str, tuple[str, float, float, tuple[str, ...]]] = {
    "beauty": ("makeup", 4, 40, ("Lip Tint", "Brow Gel", "Blush Stick", "Eye Palette")),
    "fragrances": ("scents", 20, 150, ("Eau Fraiche", "Body Mist", "Parfum Oil", "Cologne")),
    "furniture": ("home", 60, 2500, ("Lounge Chair", "Bookshelf", "Side Table", "Daybed")),
    "groceries": ("food", 0.5, 20, ("Granola", "Lentils", "Olive Spread", "Rice Crackers", "Tea Blend", "Honey Jar")),
    "home-decoration": ("decor", 8, 120, ("Vase", "Wall Clock", "Candle Set", "Mirror")),
    "kitchen-accessories": ("kitchen", 3, 90, ("Whisk", "Ladle", "Cutting Board", "Kettle", "Spice Rack", "Colander")),
    "laptops": ("computers", 600, 3500, ("Notebook 14", "Ultrabook", "Workstation 16")),
    "mens-shirts": ("clothing", 15, 80, ("Oxford Shirt", "Flannel Shirt", "Polo")),
    "mens-shoes": ("footwear", 40, 220, ("Loafers", "Trail Runners", "Chelsea Boots")),
    "mens-watches": ("watches", 90, 9000, ("Chronograph", "Diver Watch", "Field Watch")),
    "mobile-accessories": ("gadgets", 5, 250, ("Charger", "Phone Case", "Earbuds", "Power Bank", "Cable")),
    "motorcycle": ("vehicles", 3000, 22000, ("Roadster", "Scrambler", "Tourer")),
    "skin-care": ("skincare", 6, 60, ("Serum", "Day Cream", "Cleanser")),
    "smartphones": ("phones", 120, 1500, ("Phone Mini", "Phone Pro", "Phone Fold")),
    "sports-accessories": ("sports", 4, 180, ("Racket", "Yoga Mat", "Ball", "Gloves", "Helmet")),
    "sunglasses": ("eyewear", 15, 300, ("Aviators", "Round Shades", "Sport Shades")),
    "tablets": ("computers", 150, 1300, ("Tablet Air", "Tablet Max", "Sketch Tablet")),
    "tops": ("clothing", 10, 60, ("Crop Top", "Tunic", "Tank Top", "Blouse")),
    "vehicle": ("vehicles", 12000, 60000, ("Hatchback", "Estate", "Crossover", "Pickup")),
    "womens-bags": ("accessories", 25, 600, ("Tote", "Clutch", "Backpack", "Satchel")),
    "womens-dresses": ("clothing", 25, 250, ("Wrap Dress", "Maxi Dress", "Shirt Dress")),
    "womens-jewellery": ("jewellery", 15, 900, ("Pendant", "Bangle", "Earrings")),
    "womens-shoes": ("footwear", 30, 260, ("Pumps", "Sandals", "Ankle Boots", "Flats")),
    "womens-watches": ("watches", 60, 6000, ("Dress Watch", "Bracelet Watch", "Mini Watch")),
}
_ADJECTIVES = ("Aurora", "Nordic", "Coastal", "Summit", "Lunar", "Urban", "Meadow", "Harbor",
               "Ember", "Polar", "Velvet", "Cedar", "Willow", "Quartz", "Solstice", "Drift")
_MATERIALS = ("Linen", "Oak", "Bamboo", "Steel", "Ceramic", "Cotton", "Walnut", "Copper",
              "Leather", "Glass", "Wool", "Marble")
_COLOURS = ("Red", "Black", "Navy", "Ivory", "Sage", "Amber", "Slate", "Teal", "Plum", "Sand")
_OWNERS = ("Chef's", "Maker's", "Traveler's", "Collector's")
_BRANDS = ("Nordvik", "Lumelle", "Castora", "Brightwell", "Kestrel & Co", "Ovanti", "Marlowe",
           "Tessaro", "Quillon", "Halvard", "Zephra", "Ardent")
_PURPOSES = ("everyday use", "weekend trips", "small apartments", "busy mornings",
             "gift giving", "long workdays", "outdoor adventures", "quiet evenings")
_CLOSINGS = ("Easy to care for and built to last.", "Packed in recyclable materials.",
             "Tested by our in-house team.", "Pairs well with the rest of the range.",
             "Backed by friendly support.")
_COMMENTS = ("Works exactly as pictured.", "Arrived quickly, no complaints.",
             "Solid build for the price.", "Would order this again.", "Not quite what I hoped.",
             "Stopped working after a month.", "Lovely finish and feel.",
             "Average, does the job.", "Better than expected!", "Too small for me.")
_FIRST_NAMES = ("Ava", "Noah", "Mila", "Theo", "Iris", "Omar", "Lena", "Jonas", "Priya", "Kai")
_LAST_NAMES = ("Hart", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Reyes", "Novak", "Byrne")
_WARRANTIES = ("No warranty", "1 week warranty", "1 month warranty", "3 months warranty",
               "6 months warranty", "1 year warranty", "2 year warranty", "5 year warranty",
               "Lifetime warranty")
_SHIPPING = ("Ships overnight", "Ships in 1-2 business days", "Ships in 3-5 business days",
             "Ships in 1 week", "Ships in 2 weeks", "Ships in 1 month")
_RETURNS = ("No return policy", "7 days return policy", "30 days return policy",
            "60 days return policy", "90 days return policy")
# fmt: on

# Gallery sizes weighted like the real catalog (mostly 1, 3 or 4 images).
_IMAGE_COUNTS, _IMAGE_COUNT_WEIGHTS = (1, 2, 3, 4, 5, 6), (78, 8, 62, 41, 2, 5)
_IMAGE_EXTS, _IMAGE_EXT_WEIGHTS = ("webp", "jpg", "png"), (80, 10, 10)

# Title patterns picked by id so every catalog of 20+ products has slugs with "&", "'" and ".".
_TITLE_CYCLE = 20
_AMPERSAND_AT, _APOSTROPHE_AT, _DOT_AT = 7, 13, 17
# Product 2k*97 reuses the title of product (2k-1)*97, so by default ids 97 and 194 share a
# title (in different categories, as the two real "Rolex Cellini Moonphase" products do).
DUPLICATE_EVERY = 97
_OUT_OF_STOCK_EVERY, _OUT_OF_STOCK_AT = 50, 23
_LOW_STOCK_EVERY, _LOW_STOCK_AT = 15, 4
LOW_STOCK_BELOW = 10
_WHOLE_DISCOUNT_EVERY = 90  # ids 45 and 135 get an int discount, as two real products do
_BRANDLESS_SHARE = 92 / 194
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
_PRODUCT_CACHE_SIZE = 512


def slugify(title: str) -> str:
    """Slug the way DummyJSON does: lower-cased, spaces to dashes, nothing else."""
    return title.lower().replace(" ", "-")


def category_name(slug: str) -> str:
    """Display name of a category slug, e.g. 'home-decoration' -> 'Home Decoration'."""
    return " ".join(word[:1].upper() + word[1:] for word in slug.split("-"))


def _grid_size(category: str) -> int:
    """Number of distinct adjective x material x noun titles of a category."""
    return len(_ADJECTIVES) * len(_MATERIALS) * len(_VOCAB[category][3])


@functools.cache
def real_products() -> tuple[dict, ...]:
    """The real DummyJSON products (ids 1..194), as the API served them, read once."""
    with gzip.open(REAL_PRODUCTS_PATH, "rt", encoding="utf-8") as data:
        return tuple(json.load(data))


def _moved_to(value: object, base_url: str) -> object:
    """A real product's value with every CDN URL pointing at the mirror instead."""
    if isinstance(value, str) and value.startswith(UPSTREAM_CDN):
        return base_url + value[len(UPSTREAM_CDN) :]
    if isinstance(value, list):
        return [_moved_to(item, base_url) for item in value]
    if isinstance(value, dict):
        return {key: _moved_to(item, base_url) for key, item in value.items()}
    return value


def _image_folder(url: str) -> tuple[str, str]:
    """(category, slug) of an image URL's folder, decoded."""
    category, slug = urlsplit(url).path.split("/")[2:4]
    return unquote(category), unquote(slug)


def _iso(moment: datetime) -> str:
    """ISO 8601 with milliseconds and a Z, like the real API's timestamps."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Catalog:
    """Products 1..scale; product i is a pure function of (dataset, seed, scale, i), built on demand."""

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        scale: int = DEFAULT_SCALE,
        base_url: str = DEFAULT_BASE_URL,
        dataset: str = DEFAULT_DATASET,
    ) -> None:
        if scale < 0:
            raise ValueError("scale must be >= 0")
        if dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
        self.seed, self.scale, self.base_url, self.dataset = seed, scale, base_url.rstrip("/"), dataset
        # How many of the first ids are real products; the rest are generated.
        self.real_count = min(scale, len(real_products())) if dataset == REAL else 0
        # First id (0-based offset) of each category, scaled from the real counts.
        cumulative = itertools.accumulate(count for _, count in CATEGORY_COUNTS)
        self._starts = [0, *[total * scale // _REAL_TOTAL for total in cumulative][:-1]]
        self._walks = {category: self._walk(category) for category in CATEGORIES}
        # Recent products stay cached; a 10,000-product catalog never sits in memory whole.
        self.product = functools.lru_cache(maxsize=_PRODUCT_CACHE_SIZE)(self._build)

    def __len__(self) -> int:
        return self.scale

    def __getitem__(self, ids: slice) -> list[dict]:
        """Products at these 0-based positions (product i is at position i - 1)."""
        return [self.product(pid) for pid in range(1, self.scale + 1)[ids]]

    def __iter__(self) -> Iterator[dict]:
        return (self.product(pid) for pid in range(1, self.scale + 1))

    def _rng(self, pid: int, stream: str) -> random.Random:
        # String seeds hash with SHA-512, so values are stable across runs and PYTHONHASHSEED.
        return random.Random(f"{self.seed}:{pid}:{stream}")

    def _walk(self, category: str) -> tuple[int, int]:
        """Seeded (stride, offset) for visiting a category's title grid without repeats."""
        rng, size = self._rng(0, category), _grid_size(category)
        stride = rng.randrange(1, size)
        while math.gcd(stride, size) != 1:
            stride = rng.randrange(1, size)
        return stride, rng.randrange(size)

    def _locate(self, pid: int) -> tuple[str, int]:
        """Category slug of product pid (1-based) and its 0-based position in that category."""
        index = bisect.bisect_right(self._starts, pid - 1) - 1
        return CATEGORIES[index], pid - 1 - self._starts[index]

    def category_of(self, pid: int) -> str:
        """Category slug of product pid (1-based)."""
        if pid <= self.real_count:
            return real_products()[pid - 1]["category"]
        return self._locate(pid)[0]

    def categories(self) -> list[str]:
        """Slugs of the categories that hold at least one product, in id order."""
        real = [product["category"] for product in real_products()[: self.real_count]]
        ends = [*self._starts[1:], self.scale]
        generated = [
            cat
            for cat, start, end in zip(CATEGORIES, self._starts, ends, strict=False)
            if end > max(start, self.real_count)
        ]
        return list(dict.fromkeys(real + generated))

    def title(self, pid: int) -> str:
        """Title of product pid: the real one, or an invented one (a few repeat an earlier title)."""
        if pid <= self.real_count:
            return real_products()[pid - 1]["title"]
        return self._title_and_noun(pid)[0]

    def _grid_words(self, category: str, position: int) -> tuple[str, str, str, str]:
        """(adjective, material, noun, series suffix) for a position in a category.

        Walks the adjective x material x noun grid with a seeded stride coprime to its size,
        so titles in a category only repeat once the grid is used up (then get a number).
        """
        nouns, size = _VOCAB[category][3], _grid_size(category)
        stride, offset = self._walks[category]
        cell = (position * stride + offset) % size
        series = f" {position // size + 1}" if position >= size else ""
        return (
            _ADJECTIVES[cell // (len(_MATERIALS) * len(nouns))],
            _MATERIALS[cell // len(nouns) % len(_MATERIALS)],
            nouns[cell % len(nouns)],
            series,
        )

    def _title_and_noun(self, pid: int) -> tuple[str, str]:
        if not pid % (2 * DUPLICATE_EVERY):
            return self._title_and_noun(pid - DUPLICATE_EVERY)
        (category, position), rng = self._locate(pid), self._rng(pid, "title")
        adjective, material, noun, series = self._grid_words(category, position)
        kind = pid % _TITLE_CYCLE
        if kind == _AMPERSAND_AT:
            title = "{} & {} {}".format(*rng.sample(_COLOURS, 2), noun)
        elif kind == _APOSTROPHE_AT:
            owner = {"womens": "Women's", "mens": "Men's"}.get(category.split("-")[0])
            title = f"{owner or rng.choice(_OWNERS)} {adjective} {noun}"
        elif kind == _DOT_AT:
            code = "".join(rng.choices("KMRTVXZ", k=2))
            title = f"{adjective} {noun} {code}.{rng.randint(1, 9)}"
        else:
            title = f"{adjective} {material} {noun}"
        return title + series, noun

    def image_url(self, category: str, slug: str, name: str) -> str:
        """Absolute URL of one image; the slug segment is percent-encoded."""
        return f"{self.base_url}/product-images/{category}/{quote(slug, safe='')}/{name}"

    @functools.cached_property
    def _image_folders(self) -> dict[tuple[str, str], list[int]]:
        folders: dict[tuple[str, str], list[int]] = {}
        for pid in range(1, self.real_count + 1):
            folders.setdefault(_image_folder(real_products()[pid - 1]["thumbnail"]), []).append(pid)
        for pid in range(self.real_count + 1, self.scale + 1):
            folders.setdefault((self.category_of(pid), slugify(self.title(pid))), []).append(pid)
        return folders

    def find_images(self, category: str, slug: str) -> list[int]:
        """Ids of products whose image folder is category/slug (index built on first use)."""
        return self._image_folders.get((category, slug), [])

    def _build(self, pid: int) -> dict | None:
        if not 1 <= pid <= self.scale:
            return None
        if pid <= self.real_count:
            # A fresh copy: _moved_to rebuilds every list and dict.
            return _moved_to(real_products()[pid - 1], self.base_url)  # type: ignore[return-value]
        rng, category = self._rng(pid, "product"), self.category_of(pid)
        title, noun = self._title_and_noun(pid)
        brand = None if rng.random() < _BRANDLESS_SHARE else rng.choice(_BRANDS)
        discount = round(rng.uniform(0.5, 20), 2)
        product: dict = {
            "id": pid,
            "title": title,
            "description": f"Our {rng.choice(_ADJECTIVES).lower()} {noun.lower()} in "
            f"{rng.choice(_MATERIALS).lower()} tones, made for "
            f"{rng.choice(_PURPOSES)}. {rng.choice(_CLOSINGS)}",
            "category": category,
            "price": round(rng.uniform(*_VOCAB[category][1:3]), 2),
            # The real data has a whole-number discount on a few products.
            "discountPercentage": round(discount) if pid % _WHOLE_DISCOUNT_EVERY == 45 else discount,
            "rating": round(rng.uniform(2.5, 5.0), 2),
            "stock": _stock(pid, rng),
            "tags": [_VOCAB[category][0], noun.lower()],
        }
        if brand:  # absent, not null, on about half of the products, as upstream
            product["brand"] = brand
        created = _EPOCH + timedelta(seconds=rng.randrange(86_400 * 120), milliseconds=rng.randrange(1000))
        product |= {
            "sku": f"{category[:3].upper()}-{(brand or noun)[:3].upper()}-{noun[:3].upper()}-{pid:03d}",
            "weight": rng.randint(1, 10),
            "dimensions": {axis: round(rng.uniform(5, 30), 2) for axis in ("width", "height", "depth")},
            "warrantyInformation": rng.choice(_WARRANTIES),
            "shippingInformation": rng.choice(_SHIPPING),
            "availabilityStatus": availability(product["stock"]),
            "reviews": [_review(rng, created) for _ in range(3)],
            "returnPolicy": rng.choice(_RETURNS),
            "minimumOrderQuantity": rng.randint(1, 50),
            "meta": {
                "createdAt": _iso(created),
                "updatedAt": _iso(created + timedelta(seconds=rng.randrange(86_400 * 30))),
                "barcode": f"{rng.randrange(10**13):013d}",
                "qrCode": f"{self.base_url}/public/qr-code.png",
            },
        }
        ext = rng.choices(_IMAGE_EXTS, _IMAGE_EXT_WEIGHTS)[0]
        count = rng.choices(_IMAGE_COUNTS, _IMAGE_COUNT_WEIGHTS)[0]
        product["images"] = [self.image_url(category, slugify(title), f"{n}.{ext}") for n in range(1, count + 1)]
        product["thumbnail"] = self.image_url(category, slugify(title), f"thumbnail.{ext}")
        return product


def availability(stock: int) -> str:
    """availabilityStatus for a stock level."""
    if not stock:
        return "Out of Stock"
    return "Low Stock" if stock < LOW_STOCK_BELOW else "In Stock"


def _stock(pid: int, rng: random.Random) -> int:
    # Fixed by id so the default catalog has exactly 4 out-of-stock products, like upstream.
    if pid % _OUT_OF_STOCK_EVERY == _OUT_OF_STOCK_AT:
        return 0
    if pid % _LOW_STOCK_EVERY == _LOW_STOCK_AT:
        return rng.randint(1, LOW_STOCK_BELOW - 1)
    return rng.randint(LOW_STOCK_BELOW, 150)


def _review(rng: random.Random, created: datetime) -> dict:
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    return {
        "rating": rng.randint(1, 5),
        "comment": rng.choice(_COMMENTS),
        "date": _iso(created + timedelta(days=rng.randint(1, 60))),
        "reviewerName": f"{first} {last}",
        "reviewerEmail": f"{first.lower()}.{last.lower()}@example.com",
    }


def build_catalog(
    seed: int = DEFAULT_SEED,
    scale: int = DEFAULT_SCALE,
    base_url: str = DEFAULT_BASE_URL,
    dataset: str = DEFAULT_DATASET,
) -> Catalog:
    """Catalog of `scale` products (real first, unless `dataset` is synthetic), image URLs under `base_url`."""
    return Catalog(seed=seed, scale=scale, base_url=base_url, dataset=dataset)
