"""``make demo``: the whole app offline in one command: mirror, sync with images, admin account, worker, site."""

import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD_FILE = ROOT / ".demo" / "admin-password"
MIRROR_CACHE_DIR = ".mirror-cache"
HOST = "127.0.0.1"
LOOPBACK_NAMES = "127.0.0.1,localhost"
DEFAULT_WEB_PORT = 8000
DEFAULT_MIRROR_PORT = 8001
MAX_PORT = 65535
ADMIN_USERNAME = "admin"
PASSWORD_BYTES = 15
WEB_WORKERS = 2
WEB_THREADS = 4
WEB_GRACEFUL_TIMEOUT_S = 5
READY_TIMEOUT_S = 60.0
PROBE_TIMEOUT_S = 2.0
POLL_INTERVAL_S = 0.2
WATCH_INTERVAL_S = 1.0
STOP_TIMEOUT_S = 10.0
SYNC_FINISHED_WITH_FAILURES = 1
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
WORKER_ARGS = ("manage.py", "db_worker", "--queue-name", "default,sync", "--no-reload", "--interval", "0.5")

# Run by ``manage.py shell``. The password comes in the environment, never on a command
# line where ``ps`` would show it. It is set on every run, and a django-axes lock-out from
# earlier mistyped passwords is lifted, so the printed credentials always work.
ENSURE_ADMIN = """
import os
from django.contrib.auth import get_user_model
username = os.environ["DEMO_ADMIN_USERNAME"]
user, _ = get_user_model().objects.get_or_create(username=username)
user.is_active = user.is_staff = user.is_superuser = True
user.set_password(os.environ["DEMO_ADMIN_PASSWORD"])
user.save()
try:
    from axes.utils import reset
except ImportError:
    pass
else:
    reset(username=username)
"""

# Loopback requests must never go through a proxy set for the internet.
_loopback_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class DemoError(Exception):
    """A step failed; the message says which."""


def raise_keyboard_interrupt(signum, frame):  # pylint: disable=unused-argument
    """SIGTERM and SIGHUP stop the demo the way Ctrl-C does."""
    raise KeyboardInterrupt


def port_is_free(port: int) -> bool:
    """Whether a server could listen on the port now.

    SO_REUSEADDR as the servers set it, so connections of a previous run still in
    TIME_WAIT do not make the port look taken.
    """
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port(taken: set[int]) -> int:
    """A port the system has free now, other than the ones already chosen."""
    while True:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            port = probe.getsockname()[1]
        if port not in taken:
            return port


def pick_port(variable: str, default: int, taken: set[int]) -> int:
    """The port the variable names (0: any free one), else the default if free, else any free one."""
    text = os.environ.get(variable, "").strip()
    if not text:
        if default not in taken and port_is_free(default):
            return default
        port = free_port(taken)
        print(f"demo: port {default} is in use; using {port} instead (set {variable} to choose)", flush=True)
        return port
    if not text.isdigit() or int(text) > MAX_PORT:
        raise DemoError(f"{variable} must be a port number, or 0 for any free one; got {text!r}")
    port = int(text)
    if port == 0:
        return free_port(taken)
    if port in taken or not port_is_free(port):
        raise DemoError(f"{variable}={port}: that port is in use; choose another, or 0 for any free one")
    return port


def admin_password() -> str:
    """The demo admin's password: the one stored by an earlier run, or a new one stored now."""
    if PASSWORD_FILE.is_file() and (stored := PASSWORD_FILE.read_text(encoding="utf-8").strip()):
        return stored
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    PASSWORD_FILE.parent.mkdir(mode=0o700, exist_ok=True)
    descriptor = os.open(PASSWORD_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as password_file:
        password_file.write(password + "\n")
    return password


def die_with_parent_hook():
    """A pre-exec hook that has the kernel send SIGTERM to the child when the demo dies.

    Children run in process groups of their own (so one Ctrl-C is not delivered twice),
    which means nothing else would stop them if the demo were killed with SIGKILL.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork: the hook only calls it

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return hook


def answers(url: str) -> bool:
    """Whether an HTTP server answers the URL at all (an error status is an answer)."""
    try:
        with _loopback_opener.open(url, timeout=PROBE_TIMEOUT_S):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


class Children:
    """The processes the demo started; however the demo ends, they are stopped together."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.running: list[subprocess.Popen] = []
        self.pre_exec = die_with_parent_hook()

    def start(self, args: Sequence[str], extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start ``python ARGS`` in the project root with the demo's environment."""
        process = subprocess.Popen(  # pylint: disable=consider-using-with,subprocess-popen-preexec-fn
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env | (extra_env or {}),
            stdin=subprocess.DEVNULL,
            # The terminal's Ctrl-C reaches only the demo, which then stops each child once.
            process_group=0,
            preexec_fn=self.pre_exec,
        )
        self.running.append(process)
        return process

    def run(self, args: Sequence[str], extra_env: dict[str, str] | None = None) -> int:
        """Run ``python ARGS`` to its end and return its exit code."""
        process = self.start(args, extra_env)
        process.wait()
        self.running.remove(process)
        return process.returncode

    def stop_all(self) -> None:
        """SIGTERM to each (all exit cleanly on it), then SIGKILL to the groups of any that hang."""
        for process in reversed(self.running):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in self.running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"demo: process {process.pid} did not stop; killing it", file=sys.stderr, flush=True)
                with contextlib.suppress(ProcessLookupError):  # it may have gone in the meantime
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.running.clear()


class Demo:
    """The steps, in order; ``run`` returns only by an exception (Ctrl-C or a failed step)."""

    def __init__(self, *, web_port: int, mirror_port: int) -> None:
        self.web_url = f"http://{HOST}:{web_port}"
        self.mirror_url = f"http://{HOST}:{mirror_port}"
        self.serving = False
        env = dict(os.environ)
        for name in ("no_proxy", "NO_PROXY"):
            env[name] = ",".join(filter(None, [env.get(name, ""), LOOPBACK_NAMES]))
        env |= {
            # Read-through pages and admin refreshes use the mirror, not the internet.
            "DUMMYJSON_BASE_URL": self.mirror_url,
            # The demo's images are served by Django itself, which it does only in development mode.
            "DEBUG": "1",
            "SERVE_MEDIA": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self.children = Children(env)

    def run(self) -> None:
        """Set everything up, serve, and watch the servers until stopped."""
        self.step("migrating the database", ["manage.py", "migrate", "--noinput", "--verbosity", "0"])
        mirror = self.start_mirror()
        self.sync()
        password = admin_password()
        self.step(
            "creating the admin account",
            ["manage.py", "shell", "--verbosity", "0", "--command", ENSURE_ADMIN],
            {"DEMO_ADMIN_USERNAME": ADMIN_USERNAME, "DEMO_ADMIN_PASSWORD": password},
        )
        self.step("collecting static files", ["manage.py", "collectstatic", "--noinput", "--verbosity", "0"])
        worker = self.start_worker()
        web = self.start_web()
        self.serving = True
        self.print_ready(password)
        while True:
            for process, name in ((mirror, "the mirror"), (worker, "the task worker"), (web, "the web server")):
                if process.poll() is not None:
                    raise DemoError(f"{name} stopped unexpectedly (exit code {process.returncode})")
            time.sleep(WATCH_INTERVAL_S)

    def step(self, title: str, args: Sequence[str], extra_env: dict[str, str] | None = None) -> None:
        """Run one set-up command; a failure stops the demo."""
        print(f"demo: {title}", flush=True)
        if code := self.children.run(args, extra_env):
            raise DemoError(f"{title} failed (exit code {code})")

    def start_mirror(self) -> subprocess.Popen:
        """The offline DummyJSON mirror, its rendered images kept on disk for the next run."""
        print(f"demo: starting the offline DummyJSON mirror on {self.mirror_url}", flush=True)
        port = self.mirror_url.rsplit(":", 1)[1]
        mirror = self.children.start(["-m", "mirror", "--host", HOST, "--port", port, "--cache-dir", MIRROR_CACHE_DIR])
        self.wait_until_answers(f"{self.mirror_url}/products?limit=1", mirror, "the mirror")
        return mirror

    def sync(self) -> None:
        """Products and images from the mirror; a later run finds them intact and downloads nothing."""
        print("demo: syncing the catalog from the mirror (images included)", flush=True)
        code = self.children.run(["manage.py", "sync_products", "--base-url", self.mirror_url])
        if code == SYNC_FINISHED_WITH_FAILURES:
            print("demo: the sync stored what it could; the demo goes on with that", flush=True)
        elif code:
            raise DemoError(f"the sync could not run (exit code {code})")

    def start_worker(self) -> subprocess.Popen:
        """A task worker on the database queue: it runs the refreshes pages and the admin queue."""
        print("demo: starting a task worker (the queue lives in the database: no extra server)", flush=True)
        return self.children.start(WORKER_ARGS)

    def start_web(self) -> subprocess.Popen:
        """gunicorn, as production would run the site; static files by WhiteNoise, media by Django."""
        print(f"demo: starting the site on {self.web_url}", flush=True)
        web = self.children.start(
            [
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                self.web_url.removeprefix("http://"),
                "--workers",
                str(WEB_WORKERS),
                "--threads",
                str(WEB_THREADS),
                "--graceful-timeout",
                str(WEB_GRACEFUL_TIMEOUT_S),
                # Not needed here, and its default socket in the home folder is shared by every gunicorn.
                "--no-control-socket",
            ]
        )
        self.wait_until_answers(f"{self.web_url}/admin/login/", web, "the web server")
        return web

    @staticmethod
    def wait_until_answers(url: str, process: subprocess.Popen, name: str) -> None:
        """Block until the server answers, or fail when it exits or stays silent too long."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not answers(url):
            if process.poll() is not None:
                raise DemoError(f"{name} exited (code {process.returncode}) before answering {url}")
            if time.monotonic() > deadline:
                raise DemoError(f"{name} did not answer {url} within {READY_TIMEOUT_S:.0f} s")
            time.sleep(POLL_INTERVAL_S)

    def print_ready(self, password: str) -> None:
        """Where to look, and how to log in."""
        print(
            "\n".join(
                [
                    "",
                    "demo: ready",
                    f"  catalog:    {self.web_url}/products/",
                    f"  audit log:  {self.web_url}/admin/audit/auditevent/",
                    f"  admin:      user {ADMIN_USERNAME}, password {password}",
                    f"              (for local use only; kept in {PASSWORD_FILE.relative_to(ROOT)})",
                    f"  mirror:     {self.mirror_url}/products (offline DummyJSON)",
                    "  worker:     runs queued refreshes; more with `make worker` in another terminal",
                    "Press Ctrl-C to stop the site, the worker and the mirror.",
                    "",
                ]
            ),
            flush=True,
        )


def main() -> int:
    """Run the demo; 0 when stopped after serving, 130 when interrupted before, 1 on a failed step."""
    # Installed even where the shell left SIGINT ignored (a background job), so
    # ``kill -INT`` always stops the demo; SIGHUP only where nohup did not ignore it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, raise_keyboard_interrupt)
    demo = None
    code = EXIT_ERROR
    try:
        taken: set[int] = set()
        web_port = pick_port("DEMO_PORT", DEFAULT_WEB_PORT, taken)
        taken.add(web_port)
        demo = Demo(web_port=web_port, mirror_port=pick_port("MIRROR_PORT", DEFAULT_MIRROR_PORT, taken))
        demo.run()
    except KeyboardInterrupt:
        print("\ndemo: stopping", flush=True)
        code = 0 if demo and demo.serving else EXIT_INTERRUPTED
    except DemoError as error:
        print(f"demo: error: {error}", file=sys.stderr, flush=True)
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave a server behind.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        if demo:
            demo.children.stop_all()
            print("demo: stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
