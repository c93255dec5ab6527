"""WSGI entry point, used by gunicorn: ``gunicorn config.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

from catalog.process_role import mark_web_process

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Loaded only where requests are served: from here on the client refuses to call the source.
mark_web_process()
