"""Run ``verify_audit`` in this process, as the audit tests do."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def verify() -> str:
    """What verify_audit printed (it raises CommandError when the log is broken)."""
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue().strip()


def verify_fails(returncode: int = 1) -> str:
    """verify_audit's error, after checking its exit status."""
    with pytest.raises(CommandError) as caught:
        verify()
    assert caught.value.returncode == returncode
    return str(caught.value)
