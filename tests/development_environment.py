"""A pytest plugin (``-p tests.development_environment``): the suite runs in development mode.

Settings keep DEBUG off unless it is set; tests, like ``make demo``, are development, so
this sets it before pytest-django reads the settings. A test of the production defaults
starts a process with an environment of its own.
"""

import os

os.environ.setdefault("DEBUG", "1")
