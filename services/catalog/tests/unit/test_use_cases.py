from __future__ import annotations

import pytest

from catalog.domain import (
    AlbumFilter,
    AlbumNotFoundError,
    InvalidPriceError,
    Money,
    PriceChanged,
    SkuAlreadyExistsError,
)
from catalog.use_cases import Catalogue

from .fakes import FakeUnitOfWork, ManualClock


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def catalogue(uow: FakeUnitOfWork, clock: ManualClock) -> Catalogue:
    return Catalogue(uow=uow, clock=clock)


async def add(catalogue: Catalogue, sku: str, *, title: str = "Kind of Blue", genre: str = "Jazz") -> None:
    await catalogue.add_album(
        sku=sku, title=title, artist="Miles Davis", genre=genre, released=1959, price=Money(1299, "GBP")
    )


async def test_an_added_album_is_kept_and_announces_nothing(catalogue: Catalogue, uow: FakeUnitOfWork) -> None:
    """A new album is readable by its stock-keeping id; adding is not a price change."""
    await add(catalogue, "ALB-00001")
    album = await catalogue.album("ALB-00001")
    assert (album.title, album.price) == ("Kind of Blue", Money(1299, "GBP"))
    assert uow.store.announced == []


async def test_a_taken_sku_is_refused_and_the_first_album_stays(catalogue: Catalogue) -> None:
    """A second album with the same stock-keeping id is refused; the first is unchanged."""
    await add(catalogue, "ALB-00001")
    with pytest.raises(SkuAlreadyExistsError):
        await add(catalogue, "ALB-00001", title="Other")
    assert (await catalogue.album("ALB-00001")).title == "Kind of Blue"


async def test_a_price_change_is_kept_and_announced_once_with_the_clocks_time(
    catalogue: Catalogue, uow: FakeUnitOfWork, clock: ManualClock
) -> None:
    """The new price is kept and PriceChanged announced at the clock's time; the same price again is no change."""
    await add(catalogue, "ALB-00001")
    clock.advance(hours=1)
    changed = await catalogue.change_price("ALB-00001", Money(999, "GBP"))
    await catalogue.change_price("ALB-00001", Money(999, "GBP"))
    assert changed.price == (await catalogue.album("ALB-00001")).price == Money(999, "GBP")
    assert uow.store.announced == [PriceChanged("ALB-00001", Money(1299, "GBP"), Money(999, "GBP"), clock.now)]


async def test_a_refused_price_changes_nothing_and_announces_nothing(catalogue: Catalogue, uow: FakeUnitOfWork) -> None:
    """A price in another currency is refused; the album keeps its price and nothing is announced."""
    await add(catalogue, "ALB-00001")
    with pytest.raises(InvalidPriceError, match="priced in GBP"):
        await catalogue.change_price("ALB-00001", Money(999, "EUR"))
    assert (await catalogue.album("ALB-00001")).price == Money(1299, "GBP")
    assert uow.store.announced == []


async def test_describing_keeps_the_price(catalogue: Catalogue, uow: FakeUnitOfWork) -> None:
    """Correcting the details replaces them, keeps the price and announces nothing."""
    await add(catalogue, "ALB-00001")
    await catalogue.describe_album(
        "ALB-00001", title="Kind of Blue (Legacy)", artist="Miles Davis", genre="Jazz", released=1959
    )
    album = await catalogue.album("ALB-00001")
    assert (album.title, album.price) == ("Kind of Blue (Legacy)", Money(1299, "GBP"))
    assert uow.store.announced == []


async def test_an_unknown_sku_is_not_found_for_every_action(catalogue: Catalogue) -> None:
    """Reading, describing and pricing an album nobody added are all AlbumNotFoundError."""
    with pytest.raises(AlbumNotFoundError):
        await catalogue.album("NOPE-404")
    with pytest.raises(AlbumNotFoundError):
        await catalogue.describe_album(
            "NOPE-404", title="Kind of Blue", artist="Miles Davis", genre="Jazz", released=1959
        )
    with pytest.raises(AlbumNotFoundError):
        await catalogue.change_price("NOPE-404", Money(999, "GBP"))


async def test_browsing_pages_through_every_album_once(catalogue: Catalogue) -> None:
    """Following next_cursor visits every matching album once, in stock-keeping-id order; the last page says so."""
    for n in (5, 1, 4, 2, 3):
        await add(catalogue, f"ALB-0000{n}")
    await add(catalogue, "ALB-00006", genre="Rock")
    seen, cursor = [], None
    while True:
        page = await catalogue.browse(AlbumFilter(genre="jazz"), after=cursor, limit=2)
        seen += [album.sku for album in page.albums]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == [f"ALB-0000{n}" for n in range(1, 6)]


async def test_a_full_last_page_has_no_next_cursor(catalogue: Catalogue) -> None:
    """A page that ends exactly at the last album says there is no next page, without an empty one after it."""
    for n in (1, 2):
        await add(catalogue, f"ALB-0000{n}")
    page = await catalogue.browse(AlbumFilter(), after=None, limit=2)
    assert ([a.sku for a in page.albums], page.next_cursor) == (["ALB-00001", "ALB-00002"], None)
