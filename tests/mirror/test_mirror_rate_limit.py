"""The mirror's rate limit: the real API's 100 requests per 10 s per client, API routes only."""

import pytest
import requests

from mirror.rate_limit import RATE_LIMIT_MESSAGE, FixedWindowLimiter


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_101st_request_in_a_window_is_refused_until_the_window_turns():
    clock = FakeClock()
    limiter = FixedWindowLimiter(clock=clock)

    assert [limiter.hit("10.0.0.1") for _ in range(100)] == [None] * 100
    clock.now += 3.2
    assert limiter.hit("10.0.0.1") == 7
    clock.now += 6.8
    assert limiter.hit("10.0.0.1") is None


def test_each_client_address_has_its_own_count():
    limiter = FixedWindowLimiter(max_requests=1, clock=FakeClock())

    assert (limiter.hit("10.0.0.1"), limiter.hit("10.0.0.2"), limiter.hit("10.0.0.1")) == (None, None, 10)


def test_zero_turns_the_limit_off():
    limiter = FixedWindowLimiter(max_requests=0)

    assert {limiter.hit("10.0.0.1") for _ in range(500)} == {None}


def test_the_limit_is_on_by_default_with_the_real_429(mirror_factory):
    mirror = mirror_factory(rate_limit=100)  # what MirrorServer() and `python -m mirror` use
    with requests.Session() as session:
        statuses = [session.get(f"{mirror.base_url}/products/1").status_code for _ in range(100)]
        refused = session.get(f"{mirror.base_url}/products/1")

    assert set(statuses) == {200}
    assert (refused.status_code, refused.json()) == (429, {"message": RATE_LIMIT_MESSAGE})
    assert 1 <= int(refused.headers["Retry-After"]) <= 10


def test_images_do_not_count(mirror_factory):
    mirror = mirror_factory(rate_limit=2)
    with requests.Session() as session:
        product = session.get(f"{mirror.base_url}/products/1").json()
        images = [session.get(url).status_code for url in product["images"] * 3]
        second = session.get(f"{mirror.base_url}/products/2")

    assert set(images) == {200}
    assert second.status_code == 200


@pytest.mark.parametrize("bad", [{"max_requests": -1}, {"window_s": 0}])
def test_a_nonsense_limit_is_refused(bad):
    with pytest.raises(ValueError, match="the rate limit needs"):
        FixedWindowLimiter(**bad)
