"""The error tree: shape, carried context, and no secrets."""

import openalgo_core.errors as e


def test_tree_shape() -> None:
    assert issubclass(e.MissingCredentialsError, e.ConfigurationError)
    for cls in (e.PluginNotFoundError, e.PluginLoadError, e.IncompatiblePluginError,
                e.UnsupportedOperationError):
        assert issubclass(cls, e.PluginError)
    assert issubclass(e.ValidationError, ValueError)
    assert issubclass(e.UnknownSymbolError, e.ValidationError)
    for cls in (e.BrokerConnectionError, e.OrderStatusUnknownError, e.OrderRejectedError,
                e.AuthenticationError, e.RateLimitError, e.BrokerServerError,
                e.BrokerResponseError):
        assert issubclass(cls, e.BrokerError)
    assert issubclass(e.SessionExpiredError, e.AuthenticationError)
    assert issubclass(e.UnreadableOrderReplyError, e.OrderStatusUnknownError)
    assert issubclass(e.UnreadableOrderReplyError, e.BrokerResponseError)
    for name in e.__all__:
        assert issubclass(getattr(e, name), e.OpenAlgoError)


def test_every_error_is_drawn_in_the_docstring() -> None:
    for name in e.__all__:
        assert name in (e.__doc__ or ""), name


def test_broker_errors_carry_broker_and_raw() -> None:
    err = e.OrderRejectedError("Invalid Order Variety", code="AB1008", broker="angel",
                               raw=b'{"status": false}', status_code=200)
    assert (err.broker, err.code, err.reason, err.raw, err.status_code) == (
        "angel", "AB1008", "Invalid Order Variety", '{"status": false}', 200)
    assert str(err) == "angel: order rejected: Invalid Order Variety [AB1008]"


def test_raw_is_truncated() -> None:
    err = e.BrokerResponseError("bad", broker="x", raw="y" * 10_000)
    assert err.raw is not None and len(err.raw) == e.RAW_LIMIT


def test_status_unknown_carries_tag_and_rate_limit_retry_after() -> None:
    assert e.OrderStatusUnknownError("t", broker="b", tag="oa1").tag == "oa1"
    assert e.RateLimitError("r", broker="b", retry_after=1.5).retry_after == 1.5


def test_missing_credentials_names_variables() -> None:
    err = e.MissingCredentialsError("angel", ["OPENALGO_ANGEL_PIN", "OPENALGO_ANGEL_API_KEY"])
    assert "OPENALGO_ANGEL_PIN" in str(err) and "OPENALGO_ANGEL_API_KEY" in str(err)


def test_unknown_symbol_suggests() -> None:
    err = e.UnknownSymbolError("SBI", "NSE", ["SBIN"])
    assert "did you mean SBIN" in str(err) and err.field == "symbol"
