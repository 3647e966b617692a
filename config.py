"""Configuration: everything comes from environment variables with safe local defaults.

``HEATING_ENV`` picks the class (development | test | production).  Production refuses to
start without ``SECRET_KEY``, ``LOOKUP_KEY``, ``CERTIFICATE_KEY``, ``PUBLIC_BASE_URL`` and
``DATABASE_URL``; development generates secrets
once and keeps them under ``instance/`` so restarts do not log everybody out.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("HEATING_INSTANCE", BASE_DIR / "instance"))


class ConfigError(RuntimeError):
    """Raised when a configuration would be unsafe (e.g. production without a secret)."""


def _instance_secret(name: str) -> str:
    """A random secret kept in instance/<name> so development restarts keep it."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / name
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _minutes(name: str, default: int) -> timedelta:
    return timedelta(minutes=int(os.environ.get(name, default)))


class Config:
    ENV_NAME = "development"
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime already bounds the token
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans_CN", "en")
    #: idle timeout: a session unused this long is logged out
    IDLE_TIMEOUT = _minutes("IDLE_TIMEOUT_MINUTES", 30)
    PERMANENT_SESSION_LIFETIME = _minutes("SESSION_LIFETIME_MINUTES", 12 * 60)
    REMEMBER_COOKIE_DURATION = timedelta(days=int(os.environ.get("REMEMBER_DAYS", 7)))
    REMEMBER_COOKIE_HTTPONLY = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    PASSWORD_MIN_LENGTH = 12
    PAGE_SIZE = 50
    #: reverse proxies in front of the app (nginx: 1); their X-Forwarded-* headers are trusted
    #: so rate limits and audit rows see the client's address. 0 = none (never trust them).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    #: uploads (import files, photos, documents) and issued PDFs live here, outside static/
    STORAGE_DIR = os.environ.get("STORAGE_DIR", str(INSTANCE_DIR / "storage"))
    #: bulk import files
    IMPORT_MAX_BYTES = 10 * 1024 * 1024
    #: one photo or document (JPEG/PNG); a whole request is bounded by MAX_CONTENT_LENGTH
    UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    #: a paid household's season usage below these is flagged for follow-up (possible 复烧)
    USAGE_LOW_KWH = os.environ.get("USAGE_LOW_KWH", "100")
    USAGE_LOW_M3 = os.environ.get("USAGE_LOW_M3", "20")
    #: scanned documents a case needs before submission (kinds: application_scan, id_card,
    #: bank_card), comma-separated; empty: none required.  In Python config it may also be a
    #: dict from the 6-digit county code ("*" for the others) to a list of kinds.
    REQUIRED_DOCUMENTS = tuple(k.strip() for k in os.environ.get("REQUIRED_DOCUMENTS", "")
                               .split(",") if k.strip())
    #: the public address printed on certificates: {PUBLIC_BASE_URL}/verify/<serial>?t=<token>;
    #: outside production it defaults to the address ``flask run`` serves (see public_base_url)
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    #: True when PUBLIC_BASE_URL was not set but derived: create_app warns at start-up
    PUBLIC_BASE_URL_DEFAULTED = True
    #: the issuing office printed at the foot of certificates ({county}: the county's name)
    CERTIFICATE_ISSUER = os.environ.get("CERTIFICATE_ISSUER", "{county}清洁取暖工作领导小组办公室")
    #: days a 公示 notice stays posted (the default period of a new notice)
    PUBLICITY_DAYS = int(os.environ.get("PUBLICITY_DAYS", "7"))
    #: public certificate checks per client address, "<n>/<second|minute|hour|day>"
    VERIFY_RATE_LIMIT = os.environ.get("VERIFY_RATE_LIMIT", "30/minute")
    #: where the rate limiter counts: "memory" (one process; development, a single worker) or a
    #: redis:// URL shared by several workers (needs the ``redis`` package installed)
    RATELIMIT_STORAGE = os.environ.get("RATELIMIT_STORAGE", "memory")
    DEMO_DATA_ALLOWED = True

    def __init__(self) -> None:
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or _instance_secret("secret_key")
        #: key of the keyed hash (HMAC) used to look up and de-duplicate ID / bank numbers;
        #: separate from SECRET_KEY so rotating sessions never breaks the uniqueness index
        self.LOOKUP_KEY = os.environ.get("LOOKUP_KEY") or _instance_secret("lookup_key")
        #: key of the token (HMAC of the serial) printed on certificates; separate from
        #: SECRET_KEY so rotating sessions never voids a certificate already posted
        self.CERTIFICATE_KEY = (os.environ.get("CERTIFICATE_KEY")
                                or _instance_secret("certificate_key"))
        self.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'heating.sqlite3'}"
        )
        self.PUBLIC_BASE_URL, self.PUBLIC_BASE_URL_DEFAULTED = public_base_url()


class DevelopmentConfig(Config):
    pass


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast hashing keeps the suite quick

    def __init__(self) -> None:
        self.SECRET_KEY = "test-secret"
        self.LOOKUP_KEY = "test-lookup"
        self.CERTIFICATE_KEY = "test-certificate"
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite://")


class ProductionConfig(Config):
    ENV_NAME = "production"
    DEMO_DATA_ALLOWED = False
    SESSION_COOKIE_SECURE = os.environ.get("INSECURE_COOKIES") != "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    def __init__(self) -> None:
        required = ("SECRET_KEY", "LOOKUP_KEY", "CERTIFICATE_KEY", "PUBLIC_BASE_URL",
                    "DATABASE_URL")
        missing = [n for n in required if not os.environ.get(n)]
        if missing:
            raise ConfigError("production needs these environment variables: " + ", ".join(missing))
        self.SECRET_KEY = os.environ["SECRET_KEY"]
        self.LOOKUP_KEY = os.environ["LOOKUP_KEY"]
        self.CERTIFICATE_KEY = os.environ["CERTIFICATE_KEY"]
        self.PUBLIC_BASE_URL = os.environ["PUBLIC_BASE_URL"].rstrip("/")
        self.PUBLIC_BASE_URL_DEFAULTED = False
        self.SQLALCHEMY_DATABASE_URI = os.environ["DATABASE_URL"]


def public_base_url() -> tuple[str, bool]:
    """PUBLIC_BASE_URL if set, else the address ``flask run`` serves: ``make run`` passes its
    HOST and PORT as FLASK_RUN_HOST / FLASK_RUN_PORT, so ``make run PORT=5101`` prints QR codes
    for port 5101, not a dead 5000.  The flag says the value was derived (worth a warning: a
    phone scanning a certificate cannot reach 127.0.0.1)."""
    given = os.environ.get("PUBLIC_BASE_URL", "").strip()
    if given:
        return given.rstrip("/"), False
    host = os.environ.get("FLASK_RUN_HOST", "").strip() or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # every interface: this machine's own name still answers
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    port = os.environ.get("FLASK_RUN_PORT", "").strip() or "5000"
    return f"http://{host}:{port}", True


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator gave."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


CONFIGS = {"development": DevelopmentConfig, "test": TestConfig, "production": ProductionConfig}


def load_config(name: str | None = None) -> Config:
    name = name or os.environ.get("HEATING_ENV", "development")
    if name not in CONFIGS:
        raise ConfigError(f"HEATING_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    config = CONFIGS[name]()
    config.SQLALCHEMY_DATABASE_URI = normalise_database_url(config.SQLALCHEMY_DATABASE_URI)
    return config
