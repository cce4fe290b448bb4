"""Symbol index, daily cache, and lot/tick checks."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from openalgo_core import Instrument, InstrumentIndex, UnknownSymbolError, ValidationError
from openalgo_core.instruments import InstrumentCache, check_order
from openalgo_core.models import order_from

ROWS = [
    Instrument("SBIN", "NSE", "SBIN-EQ", "NSE", "3045", "SBIN"),
    Instrument("SBIN", "NSE", "SBIN-BE", "NSE", "9999", "SBIN"),  # later duplicate: ignored
    Instrument("SBIN", "BSE", "SBIN", "BSE", "500112", "SBIN"),
    Instrument("NIFTY28MAR24FUT", "NFO", "NIFTY28MAR24FUT", "NFO", "35863", "NIFTY", "FUT", 75,
               Decimal("0.05"), dt.date(2024, 3, 28)),
    Instrument("VEDL25APR24292.5CE", "NFO", "VEDL25APR24292.5CE", "NFO", "77", "VEDL", "CE",
               1150, Decimal("0.05"), dt.date(2024, 4, 25), Decimal("292.5"), "CE"),
    Instrument("USDINR10MAY24FUT", "CDS", "USDINR24MAYFUT", "CDS", "1234", "USDINR", "FUT", 1000,
               Decimal("0.0025"), dt.date(2024, 5, 10)),
]


@pytest.fixture
def index() -> InstrumentIndex:
    return InstrumentIndex.from_instruments("angel", ROWS)


def test_resolve_and_reverse_lookups(index: InstrumentIndex) -> None:
    assert index.resolve("SBIN", "NSE").broker_symbol == "SBIN-EQ"  # first row wins
    assert index.resolve("SBIN", "BSE").token == "500112"
    assert index.by_token("35863", "NFO").symbol == "NIFTY28MAR24FUT"  # type: ignore[union-attr]
    assert index.by_broker_symbol("USDINR24MAYFUT", "CDS").symbol == "USDINR10MAY24FUT"  # type: ignore[union-attr]
    assert index.by_token("35863", "NSE") is None
    assert index.get("SBIN", "NFO") is None
    assert len(index) == len(ROWS)


def test_unknown_symbol_suggests_close_matches(index: InstrumentIndex) -> None:
    with pytest.raises(UnknownSymbolError) as info:
        index.resolve("SBINN", "NSE")
    assert info.value.suggestions == ("SBIN",)
    with pytest.raises(UnknownSymbolError) as info:
        index.resolve("NIFTY28MAR24FU", "NFO")
    assert "NIFTY28MAR24FUT" in info.value.suggestions


def test_search(index: InstrumentIndex) -> None:
    assert [i.symbol for i in index.search("vedl")] == ["VEDL25APR24292.5CE"]
    assert len(index.search("SBIN", limit=1)) == 1


@pytest.mark.parametrize("loaded", [False, True])
def test_search_takes_every_word_and_an_exchange(index: InstrumentIndex, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  loaded: bool) -> None:
    """Every word must be in the symbol, name or broker symbol; ``exchange`` narrows. On a
    loaded cache only the rows whose text holds every word are parsed."""
    import openalgo_core.instruments as module

    if loaded:
        InstrumentCache(tmp_path).save(index, dt.date(2026, 11, 20))
        found = InstrumentCache(tmp_path).load("angel", dt.date(2026, 11, 20))
        assert found is not None
        index = found
        parsed: list[str] = []
        parse = module._parse_row
        monkeypatch.setattr(module, "_parse_row", lambda line: parsed.append(line) or parse(line))
    assert [i.symbol for i in index.search("sbin eq")] == ["SBIN"]  # "SBIN-EQ"
    assert [i.exchange for i in index.search("SBIN", exchange="BSE")] == ["BSE"]
    if loaded:
        parsed.clear()
    assert [i.symbol for i in index.search("nifty fut 28mar")] == ["NIFTY28MAR24FUT"]
    assert index.search("SBIN VEDL") == []
    if loaded:
        assert len(parsed) == 1  # NIFTY's future only: no other row holds those words


def test_cache_roundtrip_is_exact(index: InstrumentIndex, tmp_path: Path) -> None:
    cache = InstrumentCache(tmp_path)
    day = dt.date(2026, 11, 20)
    cache.save(index, day)
    loaded = cache.load("angel", day)
    assert loaded is not None
    # rows come back grouped by exchange, in their original order within each exchange
    assert list(loaded) == sorted(ROWS, key=lambda r: r.exchange)
    assert loaded.resolve("SBIN", "NSE").broker_symbol == "SBIN-EQ"  # first still wins
    assert loaded.by_token("9999", "NSE").broker_symbol == "SBIN-BE"  # type: ignore[union-attr]
    assert loaded.resolve("VEDL25APR24292.5CE", "NFO").strike == Decimal("292.5")
    assert loaded.by_token("1234", "CDS").tick_size == Decimal("0.0025")  # type: ignore[union-attr]


def test_cache_is_per_day_and_replaces_old_days(index: InstrumentIndex, tmp_path: Path) -> None:
    cache = InstrumentCache(tmp_path)
    cache.save(index, dt.date(2026, 11, 19))
    assert cache.load("angel", dt.date(2026, 11, 20)) is None
    cache.save(index, dt.date(2026, 11, 20))
    assert [p.name for p in tmp_path.iterdir()] == ["instruments-angel-20261120.txt"]


def test_corrupt_cache_is_ignored(index: InstrumentIndex, tmp_path: Path) -> None:
    cache = InstrumentCache(tmp_path)
    day = dt.date(2026, 11, 20)
    path = cache.save(index, day)
    path.write_text(path.read_text()[:-40])
    assert cache.load("angel", day) is None
    path.write_text("not json\n")
    assert cache.load("angel", day) is None


def test_separator_in_data_does_not_corrupt_cache(tmp_path: Path) -> None:
    odd = InstrumentIndex.from_instruments("x", [
        Instrument("A", "NSE", "A", "NSE", "1", "name with\nnewline and \x1f sep")])
    cache = InstrumentCache(tmp_path)
    cache.save(odd, dt.date(2026, 1, 1))
    loaded = cache.load("x", dt.date(2026, 1, 1))
    assert loaded is not None and loaded.resolve("A", "NSE").token == "1"


def test_lot_and_tick_checked_before_sending(index: InstrumentIndex) -> None:
    fut = index.resolve("NIFTY28MAR24FUT", "NFO")
    base = {"symbol": fut.symbol, "exchange": "NFO", "action": "BUY", "product": "NRML"}
    check_order(order_from({**base, "quantity": 150}), fut)
    with pytest.raises(ValidationError, match="lot size 75") as info:
        check_order(order_from({**base, "quantity": 100}), fut)
    assert info.value.field == "quantity"
    with pytest.raises(ValidationError, match=r"tick size 0\.05"):
        check_order(order_from({**base, "quantity": 75, "pricetype": "LIMIT",
                                "price": "100.03"}), fut)
    check_order(order_from({**base, "quantity": 75, "pricetype": "LIMIT", "price": "100.05"}),
                fut)
    cds = index.resolve("USDINR10MAY24FUT", "CDS")
    check_order(order_from({"symbol": cds.symbol, "exchange": "CDS", "action": "SELL",
                            "quantity": 1000, "pricetype": "SL", "price": "83.5025",
                            "trigger_price": "83.5050", "product": "NRML"}), cds)


def test_a_damaged_row_is_a_clear_error(tmp_path: Path) -> None:
    from openalgo_core import ConfigurationError

    cache = InstrumentCache(tmp_path)
    day = dt.date(2026, 11, 20)
    index = InstrumentIndex.from_instruments("angel", ROWS)
    path = cache.save(index, day)
    text = path.read_text()
    path.write_text(text.replace("\x1f75\x1f", "\x1fxx\x1f"))  # same length, bad lot size
    loaded = cache.load("angel", day)
    assert loaded is not None
    with pytest.raises(ConfigurationError, match="--refresh"):
        loaded.resolve("NIFTY28MAR24FUT", "NFO")


def test_a_damaged_key_line_is_a_clear_error(tmp_path: Path) -> None:
    from openalgo_core import ConfigurationError

    cache = InstrumentCache(tmp_path)
    day = dt.date(2026, 11, 20)
    path = cache.save(InstrumentIndex.from_instruments("angel", ROWS), day)
    lines = path.read_bytes().split(b"\n", 4)
    lines[2] = lines[2].replace(b"\x1e", b" ", 1)  # token keys: one key fewer, same length
    path.write_bytes(b"\n".join(lines))
    loaded = cache.load("angel", day)
    assert loaded is not None and loaded.resolve("SBIN", "NSE").token == "3045"
    with pytest.raises(ConfigurationError, match="--refresh"):
        loaded.by_token("3045", "NSE")


def test_loaded_cache_finds_every_symbol_and_suggests_like_a_fresh_index(
        index: InstrumentIndex, tmp_path: Path) -> None:
    cache = InstrumentCache(tmp_path)
    day = dt.date(2026, 11, 20)
    cache.save(index, day)
    loaded = cache.load("angel", day)
    assert loaded is not None
    for row in index:
        assert loaded.get(row.symbol, row.exchange) == index.get(row.symbol, row.exchange)
    assert loaded.get("SBIN", "MCX") is None and loaded.get("NOPE", "NSE") is None
    with pytest.raises(UnknownSymbolError) as fresh:
        index.resolve("SBI", "NSE")
    with pytest.raises(UnknownSymbolError) as cached:
        loaded.resolve("SBI", "NSE")
    assert cached.value.suggestions == fresh.value.suggestions == ("SBIN",)
