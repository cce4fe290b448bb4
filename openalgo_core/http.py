"""The one place HTTP clients are built: timeouts, safe retries, pacing, redaction.

A plugin never builds a client; each hook receives a :class:`BrokerClient` and
calls :meth:`BrokerClient.request` with the *kind* of call, which decides what
may be retried:

========  ==========================================  =============================
kind      retried on                                  after sending, no answer
========  ==========================================  =============================
read      connect errors, timeouts, 429, 5xx          retried, then BrokerServerError
order     only connect errors (never left) and 429    OrderStatusUnknownError(tag)
login     never                                       BrokerServerError
========  ==========================================  =============================

The kind and, for an order, its tag are stated once, in :meth:`BrokerClient.request`,
and travel with the request as the httpx request extension ``"openalgo"``
(:class:`RequestMeta`): retries, pacing, logging and the classification of the reply
(:func:`parse_json`, :mod:`openalgo_core.kit.replies`) all read them from there, so a
plugin never threads the tag through its own code.

``OPENALGO_<ID>_BASE_URL`` sends every host of a broker to one base URL with
the real paths kept: that is how a plugin talks to its simulator. Logs carry
method, host, path, kind, tag, status and time: never headers, query values or bodies.
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import math
import random
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit

import httpx

from .config import parse_url
from .errors import (
    BrokerConnectionError,
    BrokerResponseError,
    BrokerServerError,
    OrderStatusUnknownError,
    PluginError,
    RateLimitError,
    UnreadableOrderReplyError,
    ValidationError,
)
from .info import BrokerInfo, RateBucket, RateCategory, RateLimit

__all__ = ["EXTENSION", "BrokerClient", "RateLimiter", "RequestKind", "RequestMeta", "RetryPolicy",
           "limiters_for", "parse_json", "request_meta"]

log = logging.getLogger("openalgo.http")

RequestKind = Literal["read", "order", "login"]
Sleep = Callable[[float], None]
ProgressCallback = Callable[[int, int | None], None]

_CATEGORY: dict[RequestKind, RateCategory] = {"read": "reads", "order": "orders", "login": "login"}
#: The httpx request extension carrying a request's :class:`RequestMeta`.
EXTENSION = "openalgo"


class RequestMeta(NamedTuple):
    """What a request is: its kind (which decides retries and pacing) and, for an
    order, the tag it carries (which an unknown outcome reports). A tuple: one is
    built per order."""

    kind: RequestKind
    tag: str | None = None
    #: secrets the URL carries (Definedge's API token in its login path): every log line
    #: and error shows ``***`` in their place
    redact: tuple[str, ...] = ()
    #: the rate bucket it is paced in when the broker limits it apart from the rest of
    #: its category (``"reads.quotes"``); None: its kind's category
    rate: RateBucket | None = None


_READ = RequestMeta("read")
#: Every secret a request declared in its URL (``redact``), for httpx's own log line.
_URL_SECRETS: set[str] = set()


def _hidden(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def shown_path(request: httpx.Request) -> str:
    """The request's path as logs and errors may show it (declared secrets as ``***``)."""
    return _hidden(request.url.path, request_meta(request).redact)


class _HideUrlSecrets(logging.Filter):
    """Hides the declared URL secrets in httpx's ``HTTP Request: GET <url>`` log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _URL_SECRETS and isinstance(record.args, tuple):
            secrets = tuple(_URL_SECRETS)
            record.args = tuple(_hidden(str(arg), secrets) if isinstance(arg, httpx.URL)
                                else arg for arg in record.args)
        return True


logging.getLogger("httpx").addFilter(_HideUrlSecrets())


def request_meta(request: httpx.Request) -> RequestMeta:
    """The :class:`RequestMeta` a request was sent with (``read`` if none)."""
    meta = request.extensions.get(EXTENSION)
    return meta if isinstance(meta, RequestMeta) else _READ
#: Pace slightly under the declared limit so arrival jitter never trips a 1-second window.
PACING_HEADROOM = 0.97
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
#: Send each write at once: httpx writes a request's head and body separately, and
#: Nagle's algorithm would hold the body back until the head is acknowledged.
SOCKET_OPTIONS = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
POOL_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context (certifi's roots, or ``SSL_CERT_FILE``) for every
    broker client in the process: building one costs ~50 ms, and a context is safe to
    share between clients and threads."""
    return httpx.create_ssl_context()


_CookieTypes = httpx.Cookies | CookieJar | dict[str, str] | list[tuple[str, str]]
#: ``request`` keyword arguments served by the cached build; others go through httpx's.
_CACHEABLE = frozenset({"json", "content", "headers"})
_CACHE_LIMIT = 64


class RateLimiter:
    """Blocking pacer shared by threads: waits for a slot instead of refusing.

    ``per_second`` (GCRA, bursts of ``burst``) and any number of ``windows``
    (``(count, seconds)``: at most ``count`` request starts in any ``seconds``, kept
    exactly by remembering the last ``count`` starts). Every window is kept slightly
    wider than published (:data:`PACING_HEADROOM`).
    """

    def __init__(self, per_second: float | None, burst: int = 1, *,
                 windows: Sequence[tuple[int, float]] = (),
                 clock: Callable[[], float] = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.interval = 1.0 / (per_second * PACING_HEADROOM) if per_second else 0.0
        self.tolerance = (burst - 1) * self.interval
        self.windows = tuple((count, seconds / PACING_HEADROOM) for count, seconds in windows)
        self._starts = tuple(deque[float](maxlen=count) for count, _ in self.windows)
        self._tat = 0.0
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    @classmethod
    def of(cls, limit: RateLimit, *, clock: Callable[[], float] = time.monotonic,
           sleep: Sleep = time.sleep) -> RateLimiter:
        """The pacer keeping to every window of ``limit``."""
        return cls(limit.per_second, limit.burst, windows=limit.windows, clock=clock,
                   sleep=sleep)

    def acquire(self) -> float:
        """Block until a request may start; return the seconds waited."""
        with self._lock:
            now = self._clock()
            start = max(now, self._tat - self.tolerance) if self.interval else now
            for (count, seconds), starts in zip(self.windows, self._starts, strict=True):
                if len(starts) == count:  # the count-th last start must be a window ago
                    start = max(start, starts[0] + seconds)
            if self.interval:
                self._tat = max(self._tat, start) + self.interval
            for starts in self._starts:
                starts.append(start)
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)


def limiters_for(info: BrokerInfo, *, sleep: Sleep = time.sleep
                 ) -> dict[RateBucket, RateLimiter]:
    """One pacer per rate bucket ``info`` declares, keeping to all of its windows."""
    return {bucket: RateLimiter.of(limit, sleep=sleep)
            for bucket, limit in info.rate_limits.items()}


@dataclass
class RetryPolicy:
    """Capped, fully-jittered exponential backoff; ``Retry-After`` wins when given."""

    attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 4.0
    max_retry_after: float = 10.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return self.rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from ``Retry-After`` (a number or an HTTP date); None when absent or
    unreadable (``abc``, ``nan``, a date that does not parse): back off as usual then."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
            seconds = parsed.timestamp() - time.time()
        except (TypeError, ValueError, OverflowError, IndexError):
            return None
    return max(seconds, 0.0) if not math.isnan(seconds) else None


def unreadable(response: httpx.Response, broker: str, why: str) -> BrokerResponseError:
    """The error for a reply that cannot be trusted. For the reply to an order it is an
    :class:`UnreadableOrderReplyError` carrying the order's tag (from the request):
    the order may or may not be live."""
    meta = request_meta(response.request)
    where = f"{shown_path(response.request)} (HTTP {response.status_code})"
    if meta.kind == "order":
        return UnreadableOrderReplyError(
            f"{why} in the reply to an order from {where}; check the order book for tag"
            f" {meta.tag}", broker=broker, tag=meta.tag, raw=response.content,
            status_code=response.status_code)
    return BrokerResponseError(f"{why} from {where}", broker=broker, raw=response.content,
                               status_code=response.status_code)


def parse_json(response: httpx.Response, broker: str) -> Any:
    """The JSON body of ``response``.

    Raises:
        BrokerResponseError: the body is not JSON (or nests too deeply, or holds a number
            too long to read). For the reply to an order it is
            :class:`UnreadableOrderReplyError`, which is also an
            :class:`OrderStatusUnknownError` carrying the order's tag: the order may be live.
    """
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        if request_meta(response.request).kind == "order":
            raise unreadable(response, broker, "not JSON") from None
        raise BrokerResponseError(
            f"expected JSON from {shown_path(response.request)}, got"
            f" {response.headers.get('content-type', 'no content type')}"
            f" (HTTP {response.status_code})",
            broker=broker, raw=response.content, status_code=response.status_code) from None


class _BaseURLTransport(httpx.BaseTransport):
    """Rewrite every request to one scheme://host:port, keeping the path."""

    def __init__(self, base_url: str, inner: httpx.BaseTransport) -> None:
        parts = parse_url(base_url, "the base URL")
        self._scheme, self._netloc = parts.scheme, parts.netloc
        self._prefix = parts.path.rstrip("/")
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.netloc.decode("ascii") == self._netloc:  # built by client.url()
            return self._inner.handle_request(request)
        host, _, port = self._netloc.partition(":")
        request.url = request.url.copy_with(
            scheme=self._scheme, host=host, port=int(port) if port else None,
            raw_path=(self._prefix + request.url.raw_path.decode("ascii")).encode("ascii"))
        request.headers["Host"] = self._netloc
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class _Cookies(httpx.Cookies):
    """Cookies that skip httpx's cookie-jar pass over replies setting none: that pass
    copies every request header into a ``urllib`` request, on every call."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


class _Client(httpx.Client):
    """``httpx.Client`` keeping its cookies in :class:`_Cookies`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._jar = _Cookies(kwargs.get("cookies"))

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: _CookieTypes) -> None:
        self._jar = _Cookies(cookies)


def _log_response(broker: str) -> Callable[[httpx.Response], None]:
    def hook(response: httpx.Response) -> None:
        if log.isEnabledFor(logging.DEBUG):
            req = response.request
            meta = request_meta(req)
            log.debug("%s %s %s%s [%s%s] -> %s", broker, req.method, req.url.host,
                      shown_path(req), meta.kind, f" tag {meta.tag}" if meta.tag else "",
                      response.status_code)
    return hook


class BrokerClient:
    """A configured, thread-safe HTTP client for one broker.

    Args:
        info: the broker's declaration (hosts, rate limits, rate-limit markers).
        base_url: if set, every host is replaced by it (simulators).
        transport: an httpx transport (``MockTransport``, in-process ASGI) for tests.
        limiters: pacers per rate bucket (:func:`limiters_for`); share them between
            clients of one broker.
        sleep: injected by tests so no test sleeps for real.
    """

    def __init__(self, info: BrokerInfo, *, base_url: str | None = None,
                 transport: httpx.BaseTransport | None = None,
                 limiters: Mapping[RateBucket, RateLimiter] | None = None,
                 retry: RetryPolicy | None = None, sleep: Sleep = time.sleep,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> None:
        self.info = info
        self.broker = info.id
        self.base_url = base_url
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        if limiters is None:
            limiters = limiters_for(info, sleep=sleep)
        self.limiters: dict[RateBucket, RateLimiter] = dict(limiters)
        inner = transport or httpx.HTTPTransport(
            verify=shared_ssl_context(),
            limits=POOL_LIMITS,
            socket_options=SOCKET_OPTIONS)
        if base_url:
            inner = _BaseURLTransport(base_url, inner)
        self.http = _Client(transport=inner, timeout=timeout,
                            event_hooks={"response": [_log_response(info.id)]})
        # Parsed URLs and merged header sets, reused across calls: a broker has a
        # handful of endpoints and one header set per session.
        self._urls: dict[str, httpx.URL] = {}
        self._url_for: dict[tuple[str, str], str] = {}
        self._headers: dict[tuple[tuple[str, str], ...], httpx.Headers] = {}

    def close(self) -> None:
        self.http.close()

    def url(self, host: str, path: str = "", *, base: str | None = None) -> str:
        """The URL of ``path`` on the named host from ``BrokerInfo.base_urls``, or on
        ``base`` when given (a host a login reply named for this session).

        Raises:
            PluginError: ``BrokerInfo.base_urls`` has no such host.
        """
        key = (host if base is None else base, path)
        found = self._url_for.get(key)
        if found is not None:
            return found
        if base is None:
            base = self.info.base_urls.get(host)
            if base is None:
                raise PluginError(self.broker, f"BrokerInfo.base_urls has no host {host!r}"
                                  f" (known: {', '.join(sorted(self.info.base_urls))})")
        if self.base_url:  # every host goes to the override, real paths kept
            found = self.base_url.rstrip("/") + urlsplit(base).path.rstrip("/") + path
        else:
            found = base.rstrip("/") + path
        if len(self._url_for) < _CACHE_LIMIT:
            self._url_for[key] = found
        return found

    def _is_rate_limited(self, response: httpx.Response) -> bool:
        if response.status_code == 429:
            return True
        if response.status_code < 400 or not self.info.rate_limit_markers:
            return False
        text = response.content[:512].decode("utf-8", "replace").lower()
        return any(marker.lower() in text for marker in self.info.rate_limit_markers)

    def request(self, method: str, url: str, *, kind: RequestKind, tag: str | None = None,
                redact: tuple[str, ...] = (), rate: RateBucket | None = None,
                **kwargs: Any) -> httpx.Response:
        """Send a request with the retry rules of ``kind``; return any non-5xx reply.

        ``kind`` and ``tag`` (an order's tag) are stated here once and travel with the
        request (:func:`request_meta` reads them back from ``response.request``).
        4xx replies other than rate limits are returned for the plugin to map.
        ``redact`` names secrets the URL carries: logs and errors never show them.
        ``rate`` names the rate bucket the request is paced in when the broker limits it
        apart from the rest of its kind's category (``"reads.quotes"``).

        Raises:
            BrokerConnectionError: the request never left (after any retries).
            OrderStatusUnknownError: an ``order`` was sent and no definitive reply came.
            RateLimitError: still rate limited after the allowed retries.
            BrokerServerError: 5xx or no reply for a ``read``/``login`` after retries.
            ValidationError: a header value is not ASCII (nothing was sent).
        """
        meta = RequestMeta(kind, tag, redact, rate) if kind != "read" or tag or redact \
            or rate else _READ
        if redact:
            if len(_URL_SECRETS) > 1000:  # a handful of accounts' tokens, many times over
                _URL_SECRETS.clear()
            _URL_SECRETS.update(redact)
        try:
            request = self._build(method, url, kwargs, meta)
        except UnicodeEncodeError:
            raise ValidationError(f"{self.broker}: a request header holds a non-ASCII value;"
                                  " nothing was sent", field="headers") from None
        return self._send(request, url)

    def _send(self, request: httpx.Request, url: str) -> httpx.Response:
        """The retry loop; what may be retried is read from the request's meta."""
        kind, tag, redact, rate = request_meta(request)
        limiter = self._limiter(kind, rate)
        attempts = 1 if kind == "login" else self.retry.attempts
        attempt = 0
        while True:
            attempt += 1
            if limiter is not None:
                limiter.acquire()
            last = attempt >= attempts
            try:
                response = self.http.send(request)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                if not last:
                    self._sleep(self.retry.delay(attempt))
                    continue
                raise BrokerConnectionError(
                    f"could not reach {_where(url, redact)}: {_why(exc)}",
                    broker=self.broker) from None
            except httpx.TransportError as exc:
                if kind == "order":
                    raise OrderStatusUnknownError(
                        f"order sent to {_where(url, redact)} but no reply ({_why(exc)});"
                        f" check the order book for tag {tag}", broker=self.broker,
                        tag=tag) from None
                if not last:
                    self._sleep(self.retry.delay(attempt))
                    continue
                raise BrokerServerError(f"no reply from {_where(url, redact)}: {_why(exc)}",
                                        broker=self.broker) from None
            if self._is_rate_limited(response):
                wait = _retry_after(response)
                too_long = wait is not None and wait > self.retry.max_retry_after
                if not last and not too_long:
                    self._sleep(self.retry.delay(attempt, wait))
                    continue
                raise RateLimitError("rate limited by the broker", broker=self.broker,
                                     retry_after=wait, raw=response.content,
                                     status_code=response.status_code)
            if response.status_code >= 500:
                if kind == "order":
                    raise OrderStatusUnknownError(
                        f"broker answered HTTP {response.status_code} to an order; check the"
                        f" order book for tag {tag}", broker=self.broker, tag=tag,
                        raw=response.content, status_code=response.status_code)
                if not last and kind == "read":
                    self._sleep(self.retry.delay(attempt))
                    continue
                raise BrokerServerError(
                    f"HTTP {response.status_code} from {_where(url, redact)}",
                    broker=self.broker, raw=response.content,
                    status_code=response.status_code)
            return response

    def _limiter(self, kind: RequestKind, rate: RateBucket | None) -> RateLimiter | None:
        """The pacer of ``rate`` when the broker declares that bucket, else of the kind's
        category (None: not paced)."""
        limiters = self.limiters
        if rate is not None and rate in limiters:
            return limiters[rate]
        return limiters.get(_CATEGORY[kind])

    def _build(self, method: str, url: str, kwargs: dict[str, Any],
               meta: RequestMeta) -> httpx.Request:
        """``httpx.Client.build_request`` with the URL parse and the header merge
        cached: the same request, built for a fraction of the cost."""
        extensions = {EXTENSION: meta}
        if not kwargs.keys() <= _CACHEABLE or self.http.cookies:
            return self.http.build_request(method, url, extensions=extensions, **kwargs)
        target = self._urls.get(url)
        if target is None:
            if len(self._urls) >= _CACHE_LIMIT:
                self._urls.clear()
            target = self._urls[url] = httpx.URL(url)
        given = kwargs.get("headers") or {}
        key = tuple(given.items())
        headers = self._headers.get(key)
        if headers is None:
            if len(self._headers) >= _CACHE_LIMIT:
                self._headers.clear()
            headers = httpx.Headers(self.http.headers)
            headers.update(given)
            self._headers[key] = headers
        return httpx.Request(method, target, headers=headers, json=kwargs.get("json"),
                             content=kwargs.get("content"), extensions=extensions)

    def download(self, url: str, *, progress: ProgressCallback | None = None,
                 headers: Mapping[str, str] | None = None, chunk_size: int = 1 << 16,
                 rate: RateBucket | None = None) -> bytes:
        """GET a (large) file as bytes (a read: retried and paced, in ``rate`` when the
        broker limits its file downloads apart), reporting ``progress(done, total)``;
        ``headers`` for a file behind the broker's auth."""
        attempts = self.retry.attempts
        limiter = self._limiter("read", rate)
        for attempt in range(1, attempts + 1):
            if limiter is not None:
                limiter.acquire()
            try:
                with self.http.stream("GET", url, headers=headers,
                                      extensions={EXTENSION: _READ}) as response:
                    if response.status_code >= 400:
                        response.read()
                        if response.status_code >= 500 and attempt < attempts:
                            self._sleep(self.retry.delay(attempt))
                            continue
                        cls = BrokerServerError if response.status_code >= 500 \
                            else BrokerResponseError
                        raise cls(f"HTTP {response.status_code} downloading {_where(url)}",
                                  broker=self.broker, raw=response.content,
                                  status_code=response.status_code)
                    total = int(response.headers.get("Content-Length", 0)) or None
                    chunks: list[bytes] = []
                    done = 0
                    for chunk in response.iter_bytes(chunk_size):
                        chunks.append(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total)
                    return b"".join(chunks)
            except httpx.TransportError as exc:
                if attempt < attempts:
                    self._sleep(self.retry.delay(attempt))
                    continue
                raise BrokerConnectionError(f"download of {_where(url)} failed: {_why(exc)}",
                                            broker=self.broker) from None
        raise AssertionError("unreachable")  # pragma: no cover


def _where(url: str, redact: tuple[str, ...] = ()) -> str:
    parts = urlsplit(url)
    return _hidden(f"{parts.netloc}{parts.path}", redact)


def _why(exc: Exception) -> str:
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")
