"""The catalog's copy of DummyJSON: categories, products, their images, reviews and change history,
and the bookkeeping of syncs. One module per group; every model is re-exported here, so
``from catalog.models import X`` and the migrations keep working."""

from .product_details import ImageKind, ImageStatus, ProductChange, ProductImage, Review
from .products import PUBLISHED, Category, Product, ProductQuerySet
from .refreshes import ProductRefresh, RefreshState
from .scheduling import ScheduledSync, ShardKind, ShardState, SyncShard
from .sync_runs import Decision, RunStatus, StagedPage, SyncRun, SyncRunQuerySet

__all__ = [
    "PUBLISHED",
    "Category",
    "Decision",
    "ImageKind",
    "ImageStatus",
    "Product",
    "ProductChange",
    "ProductImage",
    "ProductQuerySet",
    "ProductRefresh",
    "RefreshState",
    "Review",
    "RunStatus",
    "ScheduledSync",
    "ShardKind",
    "ShardState",
    "StagedPage",
    "SyncRun",
    "SyncRunQuerySet",
    "SyncShard",
]
