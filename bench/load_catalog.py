"""Load the mirror's generated catalog straight into the database, through the sync's own write path.

Run: ``DATABASE_URL=... .venv/bin/python -m bench.load_catalog --size 100000``. Every product
is validated and stored as a sync stores it (``validate_product``, ``save_page``), pages of
100 in a row, without the HTTP round trips and image downloads a 100,000-product sync spends
minutes on; the catalog pages then read exactly what they would read after a sync. A database
that already holds the catalog is left as it is.
"""

import argparse
import os
import sys
import time

import django

BATCH = 100
RUN_ID = "bench-load"


def load(size: int) -> None:
    """Store products 1..size of the generated catalog; print progress to stderr."""
    # Django must be set up before its models are imported.
    # pylint: disable=import-outside-toplevel
    from catalog.models import Product
    from catalog.persistence import save_page
    from catalog.validation import validate_product
    from mirror.catalog import build_catalog

    if Product.objects.count() == size:
        print(f"the database already holds {size} products", file=sys.stderr)
        return
    if Product.objects.exists():
        raise SystemExit("the database holds another catalog: use an empty database")
    catalog, started = build_catalog(scale=size), time.monotonic()
    for start in range(0, size, BATCH):
        cleaned = [validate_product(raw) for raw in catalog[start : start + BATCH]]
        save_page([clean for clean in cleaned if not isinstance(clean, list)], {}, run_id=RUN_ID)
        if (start // BATCH) % 50 == 0:
            print(f"{start + BATCH:>7} / {size} products, {time.monotonic() - started:.0f} s", file=sys.stderr)


def main() -> None:
    """Parse the size, set Django up, load."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, required=True, help="how many products")
    size = parser.parse_args().size
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    load(size)


if __name__ == "__main__":
    main()
