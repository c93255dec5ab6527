"""ASGI entry point, for servers such as uvicorn or daphne."""

import os

from django.core.asgi import get_asgi_application

from catalog.process_role import mark_web_process

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()

# Loaded only where requests are served: from here on the client refuses to call the source.
mark_web_process()
