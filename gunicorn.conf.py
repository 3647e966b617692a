"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`."""
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "sync"  # TECH-NOTES: gthread gives no more throughput here, and a worse p99
timeout = 120  # large exports and PDF batches
accesslog = "-"
# %(U)s is the path without the query string: searches by ID number never reach the log
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
