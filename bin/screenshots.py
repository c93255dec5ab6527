"""Screenshots of a running demo for the README, taken with Playwright and Debian's Chromium.

Run ``make demo`` in one terminal, then ``.venv/bin/python -m bin.screenshots`` (after
``make install-dev``; Chromium from ``apt-get install chromium``, never ``playwright install``).
"""

import argparse
import sys
from pathlib import Path

from bin.demo import ADMIN_USERNAME, PASSWORD_FILE, ROOT

CHROMIUM = Path("/usr/bin/chromium")
# As the browser tests launch it: no sandbox (root) and no GPU (none here), and nothing fetched
# in the background, so a screenshot needs no network.
HEADLESS_ARGS = ["--no-sandbox", "--disable-gpu"]
OFFLINE_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
CHROMIUM_ARGS = [*HEADLESS_ARGS, *OFFLINE_ARGS]
VIEWPORT = {"width": 1760, "height": 940}
# Page name: (path, whether it needs the admin login, whether to capture the whole page).
PAGES = {
    "catalog": ("/products/", False, True),
    "audit-admin": ("/admin/audit/auditevent/", True, False),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bin.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", help=f"some of {', '.join(PAGES)} (default: audit-admin)")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="the running site (default: %(default)s)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs" / "screenshots", help="where PNGs go")
    args = parser.parse_args(argv)
    args.pages = args.pages or ["audit-admin"]
    if unknown := sorted(set(args.pages) - PAGES.keys()):
        parser.error(f"unknown pages {unknown}; choose from {', '.join(PAGES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Log in once if needed, then save one full-page PNG per page."""
    args = parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright  # pylint: disable=import-outside-toplevel  # a dev dependency

    args.out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            if any(PAGES[name][1] for name in args.pages):
                page.goto(f"{args.base_url}/admin/login/")
                page.fill("#id_username", ADMIN_USERNAME)
                page.fill("#id_password", PASSWORD_FILE.read_text(encoding="utf-8").strip())
                page.click("input[type=submit]")
                page.wait_for_load_state("networkidle")
                # The admin's navigation sidebar takes a third of the width the event columns need.
                page.evaluate("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
            for name in args.pages:
                page.goto(f"{args.base_url}{PAGES[name][0]}")
                page.wait_for_load_state("networkidle")
                target = args.out_dir / f"{name}.png"
                page.screenshot(path=str(target), full_page=PAGES[name][2])
                print(f"saved {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
