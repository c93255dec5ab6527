"""gunicorn settings for the site: several workers, bounded requests, logs to stdout."""

import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
# Pages are database-bound and short: two workers per core, each with a few threads.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# Pages only read the database and queue work (never call DummyJSON): one this slow is stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
