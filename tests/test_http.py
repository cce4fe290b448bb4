"""Retry rules, pacing, base-URL override and redaction of BrokerClient."""

import dataclasses
import itertools
import logging
import socket
import ssl
import threading
import time

import httpx
import pytest

from openalgo_core import (
    BrokerConnectionError,
    BrokerResponseError,
    BrokerServerError,
    ConfigurationError,
    OrderStatusUnknownError,
    PluginError,
    RateLimitError,
    RetryPolicy,
    UnreadableOrderReplyError,
    ValidationError,
)
from openalgo_core.http import (
    EXTENSION,
    BrokerClient,
    RateLimiter,
    RequestKind,
    RequestMeta,
    limiters_for,
    parse_json,
    request_meta,
    shared_ssl_context,
)
from openalgo_core.info import RateLimit
from tests.fakebroker.plugin import INFO

URL = "https://api.fake.example/api/x"


def client_with(handler, sleeps: list[float], **kw) -> BrokerClient:  # type: ignore[no-untyped-def]
    return BrokerClient(INFO, transport=httpx.MockTransport(handler), limiters={},
                        retry=RetryPolicy(attempts=3), sleep=sleeps.append, **kw)


def scripted(*steps):  # type: ignore[no-untyped-def]
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        step = steps[min(len(calls), len(steps)) - 1]
        if isinstance(step, Exception):
            raise step
        return step
    return handler, calls


def test_read_retries_5xx_then_succeeds() -> None:
    sleeps: list[float] = []
    handler, calls = scripted(httpx.Response(503), httpx.Response(502), httpx.Response(200))
    assert client_with(handler, sleeps).request("GET", URL, kind="read").status_code == 200
    assert len(calls) == 3 and len(sleeps) == 2


def test_read_gives_up_with_server_error() -> None:
    handler, calls = scripted(httpx.Response(500, text="boom"))
    with pytest.raises(BrokerServerError) as info:
        client_with(handler, []).request("GET", URL, kind="read")
    assert len(calls) == 3 and info.value.raw == "boom" and info.value.status_code == 500


def test_read_retries_timeouts() -> None:
    handler, calls = scripted(httpx.ReadTimeout("slow"), httpx.Response(200))
    assert client_with(handler, []).request("GET", URL, kind="read").status_code == 200
    assert len(calls) == 2


def test_order_is_never_resent_after_5xx() -> None:
    handler, calls = scripted(httpx.Response(502), httpx.Response(200))
    with pytest.raises(OrderStatusUnknownError) as info:
        client_with(handler, []).request("POST", URL, kind="order", tag="oaTAG")
    assert len(calls) == 1 and info.value.tag == "oaTAG"


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("t"), httpx.RemoteProtocolError("gone"),
                                 httpx.ReadError("reset"), httpx.WriteError("half")])
def test_order_is_never_resent_once_it_may_have_left(exc: Exception) -> None:
    handler, calls = scripted(exc, httpx.Response(200))
    with pytest.raises(OrderStatusUnknownError):
        client_with(handler, []).request("POST", URL, kind="order", tag="t1")
    assert len(calls) == 1


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ConnectTimeout("t")])
def test_order_retried_when_it_never_left(exc: Exception) -> None:
    handler, calls = scripted(exc, httpx.Response(200))
    assert client_with(handler, []).request("POST", URL, kind="order", tag="t").status_code == 200
    assert len(calls) == 2


def test_order_connect_failures_exhausted() -> None:
    handler, calls = scripted(httpx.ConnectError("refused"))
    with pytest.raises(BrokerConnectionError):
        client_with(handler, []).request("POST", URL, kind="order", tag="t")
    assert len(calls) == 3


def test_order_429_retried_honouring_retry_after() -> None:
    sleeps: list[float] = []
    handler, calls = scripted(httpx.Response(429, headers={"Retry-After": "2"}),
                              httpx.Response(200))
    assert client_with(handler, sleeps).request("POST", URL, kind="order").status_code == 200
    assert sleeps == [2.0] and len(calls) == 2


def test_retry_after_too_long_raises_at_once() -> None:
    handler, calls = scripted(httpx.Response(429, headers={"Retry-After": "60"}))
    with pytest.raises(RateLimitError) as info:
        client_with(handler, []).request("GET", URL, kind="read")
    assert info.value.retry_after == 60 and len(calls) == 1


def test_plain_text_rate_limit_marker_recognised() -> None:
    info = dataclasses.replace(INFO, rate_limit_markers=("exceeding access rate",))
    handler, calls = scripted(httpx.Response(
        403, text="Access denied because of exceeding access rate"))
    client = BrokerClient(info, transport=httpx.MockTransport(handler), limiters={},
                          sleep=lambda s: None)
    with pytest.raises(RateLimitError):
        client.request("GET", URL, kind="read")
    assert len(calls) == 3


def test_login_is_never_retried() -> None:
    handler, calls = scripted(httpx.ConnectError("refused"), httpx.Response(200))
    with pytest.raises(BrokerConnectionError):
        client_with(handler, []).request("POST", URL, kind="login")
    handler, calls = scripted(httpx.Response(429), httpx.Response(200))
    with pytest.raises(RateLimitError):
        client_with(handler, []).request("POST", URL, kind="login")
    assert len(calls) == 1


def test_4xx_is_returned_for_the_plugin_to_map() -> None:
    handler, _ = scripted(httpx.Response(400, json={"status": False}))
    assert client_with(handler, []).request("POST", URL, kind="order").status_code == 400


def test_backoff_is_capped_and_jittered() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=3)
    delays = [policy.delay(attempt) for attempt in range(1, 10) for _ in range(20)]
    assert all(0 <= d <= 3 for d in delays) and len(set(delays)) > 10


def test_base_url_override_keeps_real_paths() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200)
    client = BrokerClient(INFO, base_url="http://127.0.0.1:9000/sim",
                          transport=httpx.MockTransport(handler), limiters={})
    client.request("GET", client.url("api", "/api/positions?x=1"), kind="read")
    client.request("GET", client.url("files", "/instruments.csv"), kind="read")
    assert seen == ["http://127.0.0.1:9000/sim/api/positions?x=1",
                    "http://127.0.0.1:9000/sim/instruments.csv"]


def test_logs_have_no_query_values_or_headers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="openalgo.http")
    handler, _ = scripted(httpx.Response(200))
    client = client_with(handler, [])
    client.request("GET", URL + "?api_key=topsecret", kind="read",
                   headers={"Authorization": "Bearer jwt-topsecret"})
    assert "/api/x" in caplog.text and "topsecret" not in caplog.text


def test_a_secret_in_the_path_is_never_logged_or_shown(
        caplog: pytest.LogCaptureFixture) -> None:
    """Definedge's login puts the API token in the path: declared (``redact``), it shows
    as *** in the core's log, httpx's own log line and every error."""
    caplog.set_level(logging.DEBUG)
    secret = "tok-4f9a1c77e2"
    url = "https://api.example.in/login/" + secret
    ok, _ = scripted(httpx.Response(200, text="<html>"))
    reply = client_with(ok, []).request("GET", url, kind="login", redact=(secret,))
    with pytest.raises(BrokerResponseError) as unreadable_reply:
        parse_json(reply, "b")
    failing, _ = scripted(httpx.Response(503), httpx.Response(503), httpx.Response(503))
    with pytest.raises(BrokerServerError) as server_error:
        client_with(failing, []).request("GET", url, kind="read", redact=(secret,))

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(BrokerConnectionError) as unreachable:
        client_with(refuse, []).request("GET", url, kind="read", redact=(secret,))
    shown = "\n".join([caplog.text, str(unreadable_reply.value), str(server_error.value),
                       str(unreachable.value)])
    assert "/login/***" in caplog.text and "HTTP Request: GET" in caplog.text
    assert shown.count("/login/***") >= 5 and secret not in shown


def test_parse_json_typed_errors() -> None:
    request = httpx.Request("POST", URL)
    bad = httpx.Response(200, text="<html>", request=request)
    with pytest.raises(BrokerResponseError) as info:
        parse_json(bad, "fake")
    assert not isinstance(info.value, OrderStatusUnknownError)
    order = httpx.Request("POST", URL, extensions={EXTENSION: RequestMeta("order", "oa1")})
    with pytest.raises(UnreadableOrderReplyError) as order_info:
        parse_json(httpx.Response(200, text="<html>", request=order), "fake")
    assert order_info.value.tag == "oa1"  # read from the request: no tag passed by hand


def test_download_reports_progress() -> None:
    body = b"x" * 200_000
    handler, _ = scripted(httpx.Response(200, content=body))
    seen: list[tuple[int, int | None]] = []
    data = client_with(handler, []).download(URL, progress=lambda d, t: seen.append((d, t)),
                                             chunk_size=65536)
    assert data == body and seen[-1] == (200_000, 200_000) and len(seen) >= 3


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_pacer_spaces_a_burst_to_the_limit() -> None:
    clock = FakeClock()
    limiter = RateLimiter(20, clock=clock, sleep=clock.sleep)
    for _ in range(200):
        limiter.acquire()
    # 199 gaps at 20/s with 3 % headroom: ~10.26 s; never faster than the limit.
    assert 199 / 20 <= clock.now <= 199 / (20 * 0.96)


def test_pacer_allows_declared_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, burst=5, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits == [0.0] * 5 and limiter.acquire() > 0


def test_pacer_keeps_a_minute_window() -> None:
    """One token generation a minute (IndMoney): the second waits a minute, with headroom."""
    clock = FakeClock()
    limiter = RateLimiter.of(RateLimit(per_minute=1), clock=clock, sleep=clock.sleep)
    assert limiter.acquire() == 0.0
    waited = limiter.acquire()
    assert 60 <= waited <= 60 / 0.96 and clock.now == waited


def test_pacer_keeps_every_window_at_once() -> None:
    """10/s and 30 a minute: bursts go at 10/s, and no minute ever holds more than 30."""
    clock = FakeClock()
    limiter = RateLimiter.of(RateLimit(per_second=10, per_minute=30), clock=clock,
                             sleep=clock.sleep)
    starts = []
    for _ in range(100):
        limiter.acquire()
        starts.append(clock.now)
    for i, start in enumerate(starts):
        assert sum(1 for s in starts[i:] if s < start + 60) <= 30, f"window from {start}"
    assert all(b - a >= 0.1 for a, b in itertools.pairwise(starts))
    assert starts[29] < 3.1 and starts[30] >= 60  # 30 at 10/s, then the minute is full


def test_pacer_keeps_a_day_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter.of(RateLimit(per_second=15, per_day=3), clock=clock,
                             sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire()
    assert limiter.acquire() >= 86400 - 1


def test_a_call_is_paced_in_its_own_bucket() -> None:
    """A read naming ``rate="reads.quotes"`` waits on that bucket's pacer; a bucket the
    broker does not declare falls back to the kind's category."""
    used: list[str] = []

    class Spy(RateLimiter):
        def __init__(self, name: str) -> None:
            super().__init__(1000)
            self.name = name

        def acquire(self) -> float:
            used.append(self.name)
            return 0.0

    handler, _ = scripted(httpx.Response(200))
    client = BrokerClient(INFO, transport=httpx.MockTransport(handler),
                          limiters={"reads": Spy("reads"), "reads.quotes": Spy("quotes"),
                                    "orders": Spy("orders")}, sleep=lambda s: None)
    client.request("GET", URL, kind="read", rate="reads.quotes")
    client.request("GET", URL, kind="read")
    client.request("GET", URL, kind="read", rate="reads.history")
    client.request("POST", URL, kind="order", tag="oa1")
    client.download(URL, rate="reads.quotes")
    client.download(URL)
    assert used == ["quotes", "reads", "reads", "orders", "quotes", "reads"]


def test_limiters_for_builds_one_pacer_per_bucket() -> None:
    info = dataclasses.replace(INFO, rate_limits={
        "reads": RateLimit(per_second=15, per_day=100_000),
        "reads.quotes": RateLimit(per_second=5), "login": RateLimit(per_minute=1)})
    built = limiters_for(info)
    assert sorted(built) == ["login", "reads", "reads.quotes"]
    assert built["login"].interval == 0.0 and built["login"].windows == ((1, 60 / 0.97),)
    assert BrokerClient(info).limiters.keys() == built.keys()


def test_pacer_is_shared_safely_across_threads() -> None:
    slots: list[float] = []
    lock = threading.Lock()
    limiter = RateLimiter(1000, clock=lambda: 0.0, sleep=lambda s: None)

    def worker() -> None:
        for _ in range(50):
            waited = limiter.acquire()
            with lock:
                slots.append(waited)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(round(s, 9) for s in slots)) == 400  # every request got its own slot


def test_download_errors_are_typed() -> None:
    handler, calls = scripted(httpx.Response(404, text="no such file"))
    with pytest.raises(BrokerResponseError) as info:
        client_with(handler, []).download(URL)
    assert info.value.status_code == 404 and len(calls) == 1
    handler, calls = scripted(httpx.Response(503))
    with pytest.raises(BrokerServerError):
        client_with(handler, []).download(URL)
    assert len(calls) == 3


def test_client_url_points_at_the_override_with_the_hosts_path() -> None:
    info = dataclasses.replace(INFO, base_urls={"api": "https://api.fake.example/dart/v1"})
    client = BrokerClient(info, base_url="http://127.0.0.1:9000", limiters={},
                          transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    assert client.url("api", "/placeorder") == "http://127.0.0.1:9000/dart/v1/placeorder"
    plain = BrokerClient(info, limiters={})
    assert plain.url("api", "/placeorder") == "https://api.fake.example/dart/v1/placeorder"


@pytest.mark.parametrize("kwargs", [
    {"json": {"symbol": "SBIN", "qty": "1"}, "headers": {"X-PrivateKey": "k", "Accept": "x/y"}},
    {"content": b"raw body", "headers": {"Content-Type": "text/plain"}},
    {},
    {"params": {"a": "1"}, "headers": {"X-A": "b"}},
])
def test_request_sends_exactly_what_httpx_would_build(kwargs) -> None:  # type: ignore[no-untyped-def]
    seen: list[httpx.Request] = []
    client = client_with(lambda r: seen.append(r) or httpx.Response(200), [])
    for _ in range(2):  # the second call is served from the URL and header caches
        client.request("POST", URL, kind="order", tag="t", **kwargs)
        built = client.http.build_request("POST", URL, **kwargs)
        sent = seen[-1]
        assert (sent.method, sent.url, sent.headers.raw, sent.content) == (
            built.method, built.url, built.headers.raw, built.content)
        assert sent.extensions["timeout"] == client.http.timeout.as_dict()


def test_request_with_cookies_goes_through_httpx_merge() -> None:
    seen: list[httpx.Request] = []
    client = client_with(lambda r: seen.append(r) or httpx.Response(200), [])
    client.http.cookies.set("sid", "abc", domain="api.fake.example")
    client.request("GET", URL, kind="read", headers={"X-A": "b"})
    assert seen[-1].headers["Cookie"] == "sid=abc"


def test_header_cache_tracks_changed_values() -> None:
    seen: list[httpx.Request] = []
    client = client_with(lambda r: seen.append(r) or httpx.Response(200), [])
    for token in ("one", "two", "one"):
        client.request("GET", URL, kind="read", headers={"Authorization": f"Bearer {token}"})
        assert seen[-1].headers["Authorization"] == f"Bearer {token}"


def test_cookies_a_broker_sets_are_kept_and_sent_back() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"Set-Cookie": "sid=s1; Path=/"})
    client = client_with(handler, [])
    client.request("GET", URL, kind="read")
    client.request("GET", URL, kind="read")
    assert "Cookie" not in seen[0].headers and seen[1].headers["Cookie"] == "sid=s1"


def test_broker_clients_share_one_verifying_tls_context() -> None:
    """Building a TLS context costs ~50 ms; a gateway with five brokers builds one."""
    context = shared_ssl_context()
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.get_ca_certs() or context.cert_store_stats()["x509_ca"]
    first, second = BrokerClient(INFO), BrokerClient(INFO)
    try:
        for client in (first, second):
            # httpx keeps its connection pool's context here (httpcore internals)
            assert client.http._transport._pool._ssl_context is context  # type: ignore
    finally:
        first.close()
        second.close()


def test_an_order_to_a_silent_broker_ends_at_the_timeout_over_a_real_socket() -> None:
    """The request is sent straight to the transport: the client's timeout must
    still reach the socket, or an order would wait forever."""
    listener = socket.create_server(("127.0.0.1", 0))

    def hold_then_hang_up() -> None:  # without the timeout, the order ends here instead
        conn = listener.accept()[0]
        time.sleep(5)
        conn.close()
    threading.Thread(target=hold_then_hang_up, daemon=True).start()
    port = listener.getsockname()[1]
    client = BrokerClient(INFO, base_url=f"http://127.0.0.1:{port}", limiters={},
                          timeout=httpx.Timeout(0.3))
    try:  # a ReadTimeout, not the hang-up 5 s later
        with pytest.raises(OrderStatusUnknownError, match="ReadTimeout"):
            client.request("POST", client.url("api", "/order"), kind="order", tag="oaT",
                           json={"qty": 1})
    finally:
        client.close()
        listener.close()


def test_event_hooks_see_every_request_and_reply() -> None:
    sent: list[httpx.Request] = []
    answered: list[httpx.Response] = []
    client = client_with(lambda r: httpx.Response(200, json={"ok": True}), [])
    client.http.event_hooks["request"].append(sent.append)
    client.http.event_hooks["response"].append(answered.append)
    response = client.request("POST", URL, kind="order", tag="t", json={"a": 1})
    assert sent == [response.request] and answered == [response]
    assert response.json() == {"ok": True} and response.is_closed


def test_a_closed_client_sends_nothing() -> None:
    seen: list[httpx.Request] = []
    client = client_with(lambda r: seen.append(r) or httpx.Response(200), [])
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.request("GET", URL, kind="read")
    assert seen == []


def test_an_unknown_host_is_a_plugin_error() -> None:
    with pytest.raises(PluginError, match="no host 'nowhere'"):
        client_with(lambda r: httpx.Response(200), []).url("nowhere", "/x")


@pytest.mark.parametrize("value", ["abc", "nan", "NaN", "-inf", "Tue, 99 Foo 2024", "  "])
def test_an_unreadable_retry_after_backs_off_as_usual(value: str) -> None:
    sleeps: list[float] = []
    handler, calls = scripted(httpx.Response(429, headers={"Retry-After": value}),
                              httpx.Response(200, json={}))
    client_with(handler, sleeps).request("GET", URL, kind="read")
    assert len(calls) == 2 and len(sleeps) == 1
    assert 0 <= sleeps[0] <= RetryPolicy().max_delay


def test_a_non_ascii_header_sends_nothing() -> None:
    handler, calls = scripted(httpx.Response(200, json={}))
    with pytest.raises(ValidationError, match="non-ASCII"):
        client_with(handler, []).request("GET", URL, kind="read",
                                         headers={"Authorization": "tök"})
    assert calls == []


@pytest.mark.parametrize("base", ["127.0.0.1:8100", "ftp://h", "http://", "http://h:99999",
                                  "http://h:8x", "http://h /x"])
def test_a_malformed_base_url_is_a_configuration_error(base: str) -> None:
    with pytest.raises(ConfigurationError):
        client_with(lambda r: httpx.Response(200), [], base_url=base)


@pytest.mark.parametrize(("kind", "tag"), [("read", None), ("login", None), ("order", "oa9")])
def test_every_request_carries_its_kind_and_tag(kind: RequestKind, tag: str | None) -> None:
    handler, calls = scripted(httpx.Response(200, json={}))
    response = client_with(handler, []).request("POST", URL, kind=kind, tag=tag, json={})
    assert request_meta(calls[0]) == request_meta(response.request) == RequestMeta(kind, tag)
