"""The site's URLs: the catalog pages, language switching, the admin, and media files when asked to serve them."""

import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from catalog.views import media_file

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="catalog:product_list", permanent=False)),
    path("products/", include("catalog.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # Always routed; the view answers only when SERVE_MEDIA is on, so tests can switch it.
    re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", media_file, name="media"),
]
