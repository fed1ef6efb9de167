"""The peer: the catalog's list endpoint in bare FastAPI, same query, same database, same server settings.

Run with the catalog's own environment: python bare_catalog.py DATABASE_FILE PORT [POOL_SIZE]
Without POOL_SIZE the engine has SQLAlchemy's default pool, as a team without paved would write it.
"""

from __future__ import annotations

import sys
from typing import Annotated

import uvicorn
from fastapi import FastAPI, Query
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


class Price(BaseModel):
    amount_minor: int
    currency: str


class AlbumOut(BaseModel):
    sku: str
    title: str
    artist: str
    genre: str
    released: int
    price: Price


class AlbumPage(BaseModel):
    items: list[AlbumOut]
    next_cursor: str | None


def build(database: str, pool_size: int | None = None) -> FastAPI:
    pool = {} if pool_size is None else {"pool_size": pool_size, "max_overflow": 0}
    engine = create_async_engine(f"sqlite+aiosqlite:///{database}", **pool)
    app = FastAPI()

    @app.get("/albums")
    async def list_albums(limit: Annotated[int, Query(ge=1, le=100)] = 20) -> AlbumPage:
        async with engine.connect() as connection:
            rows = (
                (await connection.execute(text("SELECT * FROM albums ORDER BY sku LIMIT :n"), {"n": limit + 1}))
                .mappings()
                .all()
            )
        page = rows[:limit]
        items = [
            AlbumOut(
                sku=r["sku"],
                title=r["title"],
                artist=r["artist"],
                genre=r["genre"],
                released=r["released"],
                price=Price(amount_minor=r["price_minor"], currency=r["currency"]),
            )
            for r in page
        ]
        return AlbumPage(items=items, next_cursor=page[-1]["sku"] if len(rows) > limit else None)

    return app


if __name__ == "__main__":
    pool_size = int(sys.argv[3]) if len(sys.argv) > 3 else None
    uvicorn.run(
        build(sys.argv[1], pool_size), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False
    )
