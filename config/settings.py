"""Django settings, every value read from the environment with a working default.

The README lists each variable. Values are parsed here once; the apps read them
through small accessors (``catalog/conf.py``) so tests can override them.
"""

import ipaddress
import os
import tempfile
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# ModelAdmin[Product], QuerySet[AuditEvent]...: the generic spelling mypy checks, made valid at run time.
django_stubs_ext.monkeypatch()


def env_str(name: str, default: str) -> str:
    """The variable's value, or the default when it is unset or empty."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    """A yes/no variable: 1, true, yes and on (any case) mean yes."""
    value = os.environ.get(name)
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    """A comma-separated variable, blanks dropped."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    """A whole-number variable; a clear error instead of a traceback deep in Django."""
    value = env_str(name, str(default))
    try:
        return int(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from error


# Off unless set: `make demo`, `make worker` and the test suite turn it on for development.
DEBUG = env_bool("DEBUG", False)
DEVELOPMENT_SECRET_KEY = "django-insecure-development-key-change-me"
SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    # Refuse to start: sessions and CSRF tokens signed with a published key can be forged.
    raise ImproperlyConfigured("DEBUG is off but SECRET_KEY is not set: export a long random SECRET_KEY.")
# The audit log's Ed25519 signing key (PEM). With DEBUG on it defaults to a file in the project,
# created (mode 600) on first use; with DEBUG off it must be set, as SECRET_KEY must.
AUDIT_SIGNING_KEY_FILE = env_str(
    "AUDIT_SIGNING_KEY_FILE", str(BASE_DIR / ".audit" / "signing-key.pem") if DEBUG else ""
)
if not DEBUG and not AUDIT_SIGNING_KEY_FILE:
    # Refuse to start: without a key nothing is anchored, and tampering with the database goes unnoticed.
    raise ImproperlyConfigured(
        "DEBUG is off but AUDIT_SIGNING_KEY_FILE is not set: point it at the audit log's Ed25519 key "
        "(python manage.py audit_keys --create FILE makes one)."
    )
# The other AUDIT_* variables (anchor store, retired keys, anchoring pace) pass through as text
# when set; audit/conf.py holds their defaults and parses them.
AUDIT_SETTING_NAMES = (
    "AUDIT_ANCHOR_DIR",
    "AUDIT_ANCHOR_S3_BUCKET",
    "AUDIT_ANCHOR_S3_PREFIX",
    "AUDIT_VERIFY_KEYS",
    "AUDIT_ANCHOR_EVERY_EVENTS",
    "AUDIT_ANCHOR_EVERY_SECONDS",
    "AUDIT_ANCHORING",
)
globals().update({name: os.environ[name] for name in AUDIT_SETTING_NAMES if os.environ.get(name)})
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# The site's own origins (https://catalog.example.com) when it is served over HTTPS behind a proxy.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # axes before audit: audit's failed-login receiver reads the lockout axes has just decided.
    "axes",
    # audit before the admin, so its admin/index.html (the dashboard link) overrides the admin's own.
    "audit",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The task engine and its database queue (see TASKS below).
    "django_tasks",
    "django_tasks_db",
    "catalog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "catalog.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

# Admin logins: after AXES_FAILURE_LIMIT failures for one username from one address,
# that pair is locked out for AXES_COOLOFF_HOURS. Failures are stored by axes and in the audit log.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind a load balancer every request comes from its address: list the proxies (addresses or
# networks, comma-separated) and logins are keyed on the client named in X-Forwarded-For.
# From any other peer X-Forwarded-For is ignored, so a client cannot pick the address it is locked under.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
try:
    for _proxy in TRUSTED_PROXIES:
        ipaddress.ip_network(_proxy, strict=False)
except ValueError as _error:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_error}; list addresses or networks like 10.0.0.0/8") from _error
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A sync writes while pages read: WAL lets readers run beside the writer, IMMEDIATE
    # takes the write lock at BEGIN (no lock-upgrade deadlock) and the timeout makes a
    # second writer wait instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so tests can use threads and subprocesses as production does;
    # one per test process, so two runs side by side never share (and delete) one.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"catalog-test-{os.getpid()}.sqlite3")}
else:
    # One test database per test process here too: parallel runs must not drop each other's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media"))).resolve()
# Django serves MEDIA_ROOT itself only for development and browser tests; production uses a web server.
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)

# Security headers. HTTPS-only settings are on by default when DEBUG is off; SECURE_SSL_REDIRECT=0
# turns the redirect off for a local gunicorn, USE_X_FORWARDED_PROTO=1 trusts a TLS-terminating proxy.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
if env_bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

STORAGES = {
    # Writes land under a temporary name and are renamed into place, so a crash never
    # leaves a partial image visible. Only the storage API is used, so an S3 backend
    # can replace this one.
    "default": {
        "BACKEND": "catalog.storage.AtomicFileSystemStorage",
        "OPTIONS": {"allow_overwrite": True},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if AWS_STORAGE_BUCKET_NAME := env_str("AWS_STORAGE_BUCKET_NAME", ""):
    # Media on S3-compatible storage (AWS, MinIO, R2...): credentials come from the usual
    # AWS_* variables; AWS_S3_ENDPOINT_URL points at a non-AWS service. Uploads are atomic there.
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": env_bool("AWS_QUERYSTRING_AUTH", False),
        },
    }

# Redis for the cache when REDIS_URL is set (shared by every worker); otherwise per-process memory.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("REDIS_URL", "")}
        if env_str("REDIS_URL", "")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# The task engine (django-tasks, the backport of Django 6's Tasks): queued work lives in the
# database itself (django-tasks-db), so no extra server is needed; `manage.py db_worker` runs it,
# and any number of workers on any number of machines share the queue through the database.
TASK_QUEUES = ["default", "sync"]
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": TASK_QUEUES,
    }
}

# The DummyJSON source, the HTTP client's limits and the catalog's image rules: each
# DUMMYJSON_* / CATALOG_* variable is passed through as text only when it is set, and
# catalog/conf.py (their one list of defaults) parses and checks it.
CATALOG_SETTING_NAMES = (
    "DUMMYJSON_BASE_URL",
    "DUMMYJSON_TIMEOUT",
    "DUMMYJSON_RETRIES",
    "DUMMYJSON_BACKOFF",
    "DUMMYJSON_DEADLINE",
    "DUMMYJSON_RATE_LIMIT",
    "CATALOG_IMAGE_HOSTS",
    "CATALOG_IMAGE_FORMATS",
    "CATALOG_MAX_IMAGE_BYTES",
    "CATALOG_IMAGE_MAX_AGE",
    "CATALOG_TTL",
    # Page views of one product queue at most one refresh per interval (an unknown id too).
    "CATALOG_REFRESH_INTERVAL",
    # `manage.py schedule_syncs` queues a whole-catalog sync this often.
    "CATALOG_SYNC_INTERVAL",
)
globals().update({name: os.environ[name] for name in CATALOG_SETTING_NAMES if os.environ.get(name)})
# The publish gate's settings, passed through the same way; here an empty value counts too,
# because an empty CATALOG_EXPECTATIONS_FILE turns the golden-records check off.
for _gate_setting in (
    "CATALOG_EXPECTATIONS_FILE",
    "CATALOG_DRIFT_P_VALUE",
    "CATALOG_DRIFT_DISTANCE",
    "CATALOG_DRIFT_SMALL_SAMPLE",
    "CATALOG_DATASET_DRIFT_SHARE",
    "CATALOG_MAX_VOLUME_DROP",
    "CATALOG_MAX_PRICE_CHANGE_SHARE",
    "CATALOG_MAX_MISSING_INCREASE",
):
    if _gate_setting in os.environ:
        globals()[_gate_setting] = os.environ[_gate_setting]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "catalog": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
        "audit": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    },
}
