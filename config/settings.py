"""HuXiao settings, read from the environment.

Embedded mode (default): SQLite in WAL mode, an in-memory channel layer relayed between
the local processes, huey on SQLite, files on local disk.
Scale mode: set DATABASE_URL=postgres://… and REDIS_URL=redis://….
Production: HUXIAO_ENV=production turns on the deployment checks and requires real keys.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    local_keys,
    sqlite_database,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HUXIAO_VAR_DIR", str(BASE_DIR / "var")))

HUXIAO_ENV = env_str("HUXIAO_ENV", "embedded")  # embedded | production | test
PRODUCTION = HUXIAO_ENV == "production"
DEBUG = env_bool("HUXIAO_DEBUG", False)
# Demo mode loads the demo township and lets its users log in with the demo password.
DEMO_MODE = env_bool("HUXIAO_DEMO", False)

_secret_key = env_str("HUXIAO_SECRET_KEY")
_data_key = env_str("HUXIAO_DATA_KEY")
_hash_key = env_str("HUXIAO_HASH_KEY")
if PRODUCTION:
    if not _secret_key or not _data_key:
        raise ImproperlyConfigured(
            "HUXIAO_SECRET_KEY and HUXIAO_DATA_KEY must be set in production"
        )
    if DEMO_MODE:
        raise ImproperlyConfigured("HUXIAO_DEMO must not be enabled in production")
elif not _secret_key or not _data_key:
    _keys = local_keys(VAR_DIR / "local-keys.json")
    _secret_key = _secret_key or _keys["secret_key"]
    _data_key = _data_key or _keys["data_key"]
    _hash_key = _hash_key or _keys.get("hash_key", "")

SECRET_KEY = _secret_key
# Encrypts resident ID numbers (and later the high-risk register) at rest; see ADR 0004.
HUXIAO_DATA_KEY = _data_key
# Keys the lookup hashes of ID numbers. It does not rotate with the data key, so exact
# look-ups and duplicate checks keep working across a data-key rotation (ADR 0004).
HUXIAO_HASH_KEY = _hash_key or _data_key
# Old data keys still accepted for decryption during key rotation (comma separated).
HUXIAO_DATA_KEYS_OLD = env_list("HUXIAO_DATA_KEYS_OLD", [])

ALLOWED_HOSTS = env_list("HUXIAO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("HUXIAO_CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies whose X-Forwarded-For is believed (login lockout, audit addresses).
HUXIAO_TRUSTED_PROXIES = frozenset(env_list("HUXIAO_TRUSTED_PROXIES", []))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "channels",
    # Before huey's app: huxiao.core's run_huey replaces huey's (its -V/-q take effect).
    "huxiao.core",
    "huey.contrib.djhuey",
    "huxiao.audit",
    "huxiao.orgs",
    "huxiao.accounts",
    "huxiao.people",
    "huxiao.imports",
    "huxiao.alarms",
    "huxiao.incidents",
    "huxiao.patrols",
    "huxiao.intel",
    "huxiao.access",
    "huxiao.hazards",
    "huxiao.supervision",
    "huxiao.security",
    "huxiao.duty",
    "huxiao.drills",
    "huxiao.transport",
    "huxiao.health",
    "huxiao.reports",
    "huxiao.notify",
    "huxiao.ops",
    "huxiao.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "huxiao.core.csp.SecurityHeadersMiddleware",
    "huxiao.core.middleware.RequestIdMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "huxiao.core.middleware.LanguageMiddleware",
    "huxiao.core.ratelimit.RateLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "huxiao.core.middleware.HtmxLoginRedirectMiddleware",
    "huxiao.accounts.middleware.SessionIdleTimeoutMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "huxiao" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["huxiao.core.templatetags.names"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "huxiao.core.context_processors.huxiao",
            ],
        },
    }
]

_database_url = env_str("DATABASE_URL")
DATABASES = {
    "default": database_from_url(_database_url, BASE_DIR)
    if _database_url
    else sqlite_database(VAR_DIR / "huxiao.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# Starts every key this installation keeps in Redis (cache, channel layer, task queue), so
# two installations or a deployment test can share one Redis (deploy/env.example).
REDIS_PREFIX = env_str("HUXIAO_REDIS_PREFIX", "huxiao")
if REDIS_URL:
    import socket

    # A Redis that vanished without closing its connections is noticed by keep-alive
    # probes (about 25 s) and unacknowledged writes give up after 20 s (Linux options;
    # elsewhere those that exist).
    _keepalive = {
        getattr(socket, name): value
        for name, value in [
            ("TCP_KEEPIDLE", 10),
            ("TCP_KEEPINTVL", 5),
            ("TCP_KEEPCNT", 3),
            ("TCP_USER_TIMEOUT", 20_000),
        ]
        if hasattr(socket, name)
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
            # Passed to redis-py's connection pool. A Redis that stops answering costs a
            # request at most this long (the callers that can do without the cache —
            # dashboard figures, rate limits — then go on without it), not a hung worker.
            # Synchronous redis-py has no cancellation problem (see the channel layer).
            "OPTIONS": {
                "socket_connect_timeout": 2,
                "socket_timeout": 3,
                "socket_keepalive": True,
                "socket_keepalive_options": _keepalive,
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            # channels_redis with a blocking connection pool (ADR 0015).
            "BACKEND": "huxiao.core.redis_layer.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # Per process and event loop. A burst of commands beyond it (hundreds
                        # of consoles leaving at once) waits up to `timeout` s for a free
                        # connection instead of failing with "Too many connections".
                        "max_connections": 50,
                        "timeout": 10,
                        # No client read/write timeout: with one, redis-py sends every
                        # command through asyncio.wait_for, which before Python 3.12 can
                        # swallow a cancellation (CPython gh-86296), and a closed console's
                        # reader then polls Redis forever. Replies are bounded anyway (the
                        # blocking pop returns after 5 s); the keep-alive finds a dead peer.
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                        "socket_keepalive": True,
                        "socket_keepalive_options": _keepalive,
                    }
                ],
                "prefix": REDIS_PREFIX,
                # Messages waiting per Redis key. Every console of an ASGI process shares
                # the process's one key, and an alarm puts a message on it per group
                # (five): channels_redis's default of 100 was twenty alarms of lag. With
                # publishing made cheaper (ADR 0015), a burst on a loaded machine outran an
                # ASGI process and pushes beyond it were dropped (bench/alarm_latency,
                # redis, 2026-12-01). A message is about 1.5 kB.
                "capacity": 2000,
                # channels_redis's default, stated: a membership not renewed for a day is
                # dropped. Consoles renew theirs every ALARM_CONSOLE_REFRESH_SECONDS; the
                # members of a killed process linger until then (harmless: nobody reads).
                "group_expiry": 86400,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    if HUXIAO_ENV == "test":
        # One process per test worker: nothing to relay, and workers must not hear
        # each other (tests of the relay build their own layers).
        CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    else:
        # The processes of `manage.py serve` reach each other's sockets (ADR 0016).
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "huxiao.core.layers.RelayChannelLayer",
                "CONFIG": {"relay_dir": str(VAR_DIR / "run" / "channels")},
            }
        }

# Task queue (ADR 0003): huey on SQLite in embedded mode, on Redis in scale mode.
HUEY_IMMEDIATE = env_bool("HUXIAO_TASKS_IMMEDIATE", False)
if REDIS_URL:
    HUEY = {
        "name": REDIS_PREFIX,
        "huey_class": "huey.RedisHuey",
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "utc": False,  # crontabs in local time (TIME_ZONE, which Django puts in TZ)
        "consumer": {"workers": env_int("HUXIAO_TASK_WORKERS", 2), "worker_type": "thread"},
    }
else:
    HUEY = {
        "name": "huxiao",
        "huey_class": "huxiao.core.task_queue.EmbeddedHuey",
        "filename": str(VAR_DIR / "tasks.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "utc": False,  # crontabs in local time (TIME_ZONE, which Django puts in TZ)
        "consumer": {"workers": env_int("HUXIAO_TASK_WORKERS", 2), "worker_type": "thread"},
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Lockout after repeated failures (per username and per client address).
LOGIN_MAX_FAILURES = env_int("HUXIAO_LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_SECONDS = env_int("HUXIAO_LOGIN_LOCKOUT_SECONDS", 900)
API_TOKEN_TTL_DAYS = env_int("HUXIAO_API_TOKEN_TTL_DAYS", 30)
# Two-factor authentication (TOTP) for police, office and county accounts (ADR 0034). Off in
# the test environment unless a test turns it on, and always off in demo mode.
TWO_FACTOR_ENFORCED = env_bool("HUXIAO_TWO_FACTOR", HUXIAO_ENV != "test")
TWO_FACTOR_ISSUER = env_str("HUXIAO_TWO_FACTOR_ISSUER", "HuXiao")
# Between the right password and the code: the pending login lasts this long.
TWO_FACTOR_PENDING_SECONDS = env_int("HUXIAO_TWO_FACTOR_PENDING_SECONDS", 300)
# Rate limits, "count/seconds" ("0" turns one off); see huxiao/core/ratelimit.py. Off in
# the test environment (one process runs thousands of logins a minute) unless a test sets it.
HUXIAO_RATE_LOGIN = env_str("HUXIAO_RATE_LOGIN", "0" if HUXIAO_ENV == "test" else "60/60")
HUXIAO_RATE_DEVICE = env_str("HUXIAO_RATE_DEVICE", "0" if HUXIAO_ENV == "test" else "300/60")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "huxiao" / "locale"]
TIME_ZONE = env_str("HUXIAO_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "huxiao" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Embedded mode serves static files straight from the source folders (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(env_str("HUXIAO_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
IMPORT_MAX_BYTES = env_int("HUXIAO_IMPORT_MAX_BYTES", 20 * 1024 * 1024)

# Backups (huxiao/ops, ADR 0034): `manage.py backup` / `restore`; nightly at 02:30 local time
# when HUXIAO_BACKUP_SCHEDULE is on (default: in production only), keeping the newest
# HUXIAO_BACKUP_KEEP (0 keeps all). pg_dump/pg_restore come from HUXIAO_BACKUP_PG_BIN_DIR,
# else /usr/lib/postgresql/<server major>/bin, else PATH.
HUXIAO_BACKUP_DIR = Path(env_str("HUXIAO_BACKUP_DIR", str(VAR_DIR / "backups")))
HUXIAO_BACKUP_KEEP = env_int("HUXIAO_BACKUP_KEEP", 14)
HUXIAO_BACKUP_SCHEDULE = env_bool("HUXIAO_BACKUP_SCHEDULE", PRODUCTION)
HUXIAO_BACKUP_PG_BIN_DIR = env_str("HUXIAO_BACKUP_PG_BIN_DIR", "")

# WebSockets are served by the ASGI server (ADR 0002). In embedded mode it listens on its
# own port and pages are told where; behind nginx it is the same origin under /ws/.
HUXIAO_WS_URL = env_str("HUXIAO_WS_URL")  # e.g. "/ws/" behind nginx
HUXIAO_WS_PORT = env_int("HUXIAO_WS_PORT", 8001)

SESSION_COOKIE_HTTPONLY = True
# A session lasts one shift at most; police and office sessions also end after 30 min
# without a request, school sessions (gate kiosks, class tablets) only at the end (ADR 0034).
SESSION_COOKIE_AGE = env_int("HUXIAO_SESSION_SECONDS", 8 * 3600)
SESSION_IDLE_SECONDS = env_int("HUXIAO_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_IDLE_SECONDS_SCHOOL = env_int("HUXIAO_SESSION_IDLE_SECONDS_SCHOOL", 0)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("HUXIAO_SESSION_BROWSER_CLOSE", False)
# Content-Security-Policy (huxiao/core/csp.py): report-only while trying a change.
HUXIAO_CSP_REPORT_ONLY = env_bool("HUXIAO_CSP_REPORT_ONLY", False)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "huxiao.core.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Probes and the metrics scraper talk plain HTTP to an application port on the host (nginx
# answers /metrics with 404): they are answered, never redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("HUXIAO_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("HUXIAO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("HUXIAO_HSTS_PRELOAD", False)
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Logs (huxiao/core/logging.py, ADR 0034): one JSON object per line in production, a plain
# line elsewhere; both carry the request id. The access log (one line per request, never a
# query string or a body) is on except in tests; off, it still logs the 5xx answers.
HUXIAO_LOG_FORMAT = env_str("HUXIAO_LOG_FORMAT", "json" if PRODUCTION else "plain")
if HUXIAO_LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("HUXIAO_LOG_FORMAT must be json or plain")
HUXIAO_ACCESS_LOG = env_bool("HUXIAO_ACCESS_LOG", HUXIAO_ENV != "test")
# /metrics (huxiao/core/observability.py): these client addresses or networks, or a bearer
# token equal to HUXIAO_METRICS_TOKEN; others get a 404. Several processes need
# PROMETHEUS_MULTIPROC_DIR (see huxiao/core/metrics.py).
HUXIAO_METRICS_ALLOWED = env_list("HUXIAO_METRICS_ALLOWED", ["127.0.0.1", "::1"])
HUXIAO_METRICS_TOKEN = env_str("HUXIAO_METRICS_TOKEN")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"()": "huxiao.core.logging.PlainFormatter"},
        "json": {"()": "huxiao.core.logging.JsonFormatter"},
    },
    "filters": {"request": {"()": "huxiao.core.logging.RequestContextFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": HUXIAO_LOG_FORMAT,
            "filters": ["request"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("HUXIAO_LOG_LEVEL", "INFO")},
    "loggers": {
        "huxiao.access": {"level": "INFO" if HUXIAO_ACCESS_LOG else "WARNING"},
        # run_huey gives the "huey" logger a handler of its own when it has none, and the
        # root's printed every worker line a second time.
        "huey": {"handlers": ["console"], "propagate": False},
        "django.request": {"level": "ERROR"},
        "django.security.DisallowedHost": {"level": "ERROR"},
        # WeasyPrint logs every rendering step at INFO (ADR 0033).
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50

# The command dashboard's slow panels (hazards, compliance, posts, drills, warnings, gate,
# register) are kept this long per viewer and area; alarms and health alerts are always read
# live (huxiao/reports/dashboard_selectors.py). 0: read everything on every request.
DASHBOARD_CACHE_SECONDS = env_int(
    "HUXIAO_DASHBOARD_CACHE_SECONDS", 0 if HUXIAO_ENV == "test" else 30
)

# One-click alarms (ADR 0011).
ALARM_CANCEL_WINDOW_SECONDS = env_int("HUXIAO_ALARM_CANCEL_WINDOW_SECONDS", 10)
ALARM_ESCALATE_AFTER_SECONDS = env_int("HUXIAO_ALARM_ESCALATE_AFTER_SECONDS", 30)
ALARM_ESCALATE_REPEAT_SECONDS = env_int("HUXIAO_ALARM_ESCALATE_REPEAT_SECONDS", 60)
# Seconds between the console's database reads for events the push did not bring
# (huxiao/alarms/consumers); unset: 1 s with the in-memory/relay layers, off with Redis.
_tail_seconds = env_str("HUXIAO_ALARM_CONSOLE_TAIL_SECONDS")
try:
    ALARM_CONSOLE_TAIL_SECONDS = float(_tail_seconds) if _tail_seconds else None
except ValueError:
    raise ImproperlyConfigured("HUXIAO_ALARM_CONSOLE_TAIL_SECONDS must be a number") from None
# How often an open console socket re-reads the user's memberships (huxiao/alarms/consumers).
ALARM_CONSOLE_REFRESH_SECONDS = env_int("HUXIAO_ALARM_CONSOLE_REFRESH_SECONDS", 300)
# A connected console asks for the events after its last one this often, so a push lost on
# the way is shown within this time, not only at its next reconnect (ADR 0011).
ALARM_CONSOLE_CATCH_UP_SECONDS = env_int("HUXIAO_ALARM_CONSOLE_CATCH_UP_SECONDS", 30)
# MQTT alarm boxes (ADR 0012): empty = no bridge. mqtt://[user:pass@]host[:1883] or mqtts://…
HUXIAO_MQTT_URL = env_str("HUXIAO_MQTT_URL", "")
HUXIAO_MQTT_CLIENT_ID = env_str("HUXIAO_MQTT_CLIENT_ID", "huxiao-bridge")
