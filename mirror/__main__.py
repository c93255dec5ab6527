"""Command line: ``python -m mirror --port 8001 ...`` serves the mirror until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from mirror import faults as faults_module
from mirror.catalog import DATASETS, DEFAULT_DATASET, DEFAULT_SCALE, DEFAULT_SEED
from mirror.images import GALLERY_SIZE, THUMBNAIL_SIZE
from mirror.rate_limit import DEFAULT_MAX_REQUESTS
from mirror.server import MirrorServer

DEFAULT_PORT = 8001
DEFAULT_CACHE_DIR = ".mirror-cache"  # relative to the working directory; git-ignored at the repo root


def _at_least(kind: type[int | float], minimum: int):
    """An argparse type: a number of `kind` no smaller than `minimum`."""

    def convert(text: str) -> int | float:
        value = kind(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text}")
        return value

    convert.__name__ = kind.__name__  # argparse names the type in its error messages
    return convert


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; its epilog documents the fault specs."""
    parser = argparse.ArgumentParser(
        prog="python -m mirror",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Offline DummyJSON-compatible products API with generated images.",
        epilog=faults_module.__doc__,
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=_at_least(int, 0),
        default=DEFAULT_PORT,
        help="TCP port, 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="catalog seed (default: %(default)s)")
    parser.add_argument(
        "--scale", type=_at_least(int, 0), default=DEFAULT_SCALE, help="number of products (default: %(default)s)"
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default=DEFAULT_DATASET,
        help="real: the 194 real products first, generated ones beyond; synthetic: all generated "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--latency-ms", type=_at_least(float, 0), default=0, help="delay before every response (default: %(default)s)"
    )
    parser.add_argument(
        "--rate-limit",
        type=_at_least(int, 0),
        default=DEFAULT_MAX_REQUESTS,
        help="API requests per client per 10 s, as the real API allows; 0 turns the limit off (default: %(default)s)",
    )
    parser.add_argument(
        "--faults", default="", metavar="SPECS", help="comma-separated fault specs, see below (default: none)"
    )
    parser.add_argument(
        "--image-size",
        type=_at_least(int, 1),
        default=GALLERY_SIZE,
        help="gallery image side in pixels (default: %(default)s)",
    )
    parser.add_argument(
        "--thumbnail-size",
        type=_at_least(int, 1),
        default=THUMBNAIL_SIZE,
        help="thumbnail side in pixels (default: %(default)s)",
    )
    parser.add_argument(
        "--cache-dir",
        default=DEFAULT_CACHE_DIR,
        help="keep rendered images here across runs; '' keeps them in memory only (default: %(default)s)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, serve until a signal arrives, return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        faults = faults_module.parse_faults(args.faults)
        server = MirrorServer(
            args.host,
            args.port,
            seed=args.seed,
            scale=args.scale,
            dataset=args.dataset,
            latency_ms=args.latency_ms,
            faults=faults,
            rate_limit=args.rate_limit,
            image_size=args.image_size,
            thumbnail_size=args.thumbnail_size,
            cache_dir=args.cache_dir,
            log_requests=args.verbose,
        )
    except ValueError as error:
        parser.error(str(error))
    except OSError as error:
        print(f"mirror: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with server:
        print(f"mirror: serving {args.scale} products at {server.base_url}", flush=True)
        stopping.wait()
    print("mirror: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
