"""Security headers Django does not send by itself: Content-Security-Policy and Permissions-Policy."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Our pages use no inline script or style and load nothing from other origins.
DEFAULT_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DEFAULT_PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """Add the policies to every response that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policies = {
            "Content-Security-Policy": getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_CONTENT_SECURITY_POLICY),
            "Permissions-Policy": getattr(settings, "PERMISSIONS_POLICY", DEFAULT_PERMISSIONS_POLICY),
        }
        for header, value in policies.items():
            if value:
                response.headers.setdefault(header, value)
        return response
