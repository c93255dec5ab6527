"""Template tags for the admin index: the held sync runs nobody has published yet."""

from django import template

from catalog.models import SyncRun

register = template.Library()
HELD_RUNS_LISTED = 10


@register.simple_tag
def held_sync_runs() -> dict[str, object]:
    """The newest held runs and how many there are."""
    held = SyncRun.objects.held()
    return {"runs": list(held[:HELD_RUNS_LISTED]), "count": held.count()}
