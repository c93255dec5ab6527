"""catalog_expectations: --init writes the golden records from the catalog; without it, checks them."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog import conf
from catalog.models import Product
from catalog.quality.expectations import load_expectations
from tests.sync_helpers import sync

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    """What catalog_expectations prints."""
    out = StringIO()
    call_command("catalog_expectations", *args, stdout=out)
    return out.getvalue()


def test_init_writes_the_first_product_of_each_category(mirror, tmp_path):
    sync("--base-url", mirror.base_url, "--no-images")
    path = tmp_path / "golden.json"

    assert run("--init", "--file", str(path)) == f"wrote 24 golden products to {path}\n"
    records = load_expectations(path)
    assert [record.id for record in records][:4] == [1, 6, 11, 16]
    # The checked-in file is exactly what --init writes from the real catalog.
    assert path.read_text(encoding="utf-8") == conf.DEFAULT_EXPECTATIONS_FILE.read_text(encoding="utf-8")
    assert run("--file", str(path)) == f"{path}: 24 golden products, all pass\n"


def test_check_lists_what_the_catalog_breaks(mirror, tmp_path):
    sync("--base-url", mirror.base_url, "--no-images")
    path = tmp_path / "golden.json"
    run("--init", "--file", str(path))
    Product.objects.filter(id=1).update(is_published=False)

    with pytest.raises(CommandError, match="1 golden check\\(s\\) fail") as caught:
        call_command("catalog_expectations", "--file", str(path), stderr=StringIO())
    assert caught.value.returncode == 1


def test_init_on_an_empty_catalog_is_exit_2(tmp_path):
    with pytest.raises(CommandError, match="the catalog has no published products") as caught:
        run("--init", "--file", str(tmp_path / "golden.json"))
    assert caught.value.returncode == 2


def test_a_broken_file_is_exit_2_naming_the_line(tmp_path):
    path = tmp_path / "golden.json"
    path.write_text('{"products": [\n  {"id": 0}\n]}')

    with pytest.raises(CommandError, match=f"expectations file {path}, line 2: a product needs") as caught:
        run("--file", str(path))
    assert caught.value.returncode == 2


def test_an_empty_setting_needs_a_file(settings):
    settings.CATALOG_EXPECTATIONS_FILE = ""

    with pytest.raises(CommandError, match="CATALOG_EXPECTATIONS_FILE is empty"):
        run("--init")
