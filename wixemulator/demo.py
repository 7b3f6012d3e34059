"""Demo content for an emulated store: enough items that a restore visibly brings data back."""

import random

from .models import EmuCollection, EmuItem, EmuSite

PRODUCT_COUNT = 300
ADJECTIVES = ["Classic", "Organic", "Handmade", "Vintage", "Minimal", "Deluxe", "Everyday", "Linen"]
NOUNS = ["Mug", "Tote Bag", "Candle", "Notebook", "Scarf", "Teapot", "Poster", "Blanket", "Lamp"]
TOPICS = ["Spring collection", "Behind the scenes", "Care guide", "Gift ideas", "Our makers"]
FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas"]
LAST = ["Moreau", "Okafor", "Silva", "Kowalski", "Tanaka", "Novak", "Haddad", "Berg", "Rossi"]


def fill(site: EmuSite) -> None:
    # A fixed seed: every demo site holds the same catalogue, so screenshots and docs agree.
    rng = random.Random(7)  # noqa: S311
    collections = {
        "Products": _products(rng),
        "BlogPosts": _posts(rng),
        "Customers": _customers(rng),
    }
    names = {"Products": "Products", "BlogPosts": "Blog Posts", "Customers": "Customers"}
    for collection_id, items in collections.items():
        collection = EmuCollection.objects.create(
            site=site, collection_id=collection_id, display_name=names[collection_id]
        )
        EmuItem.objects.bulk_create(
            [EmuItem(collection=collection, item_id=i, data=d) for i, d in items], batch_size=500
        )


def _products(rng: random.Random) -> list[tuple[str, dict]]:
    return [
        (
            f"product-{n:04d}",
            {
                "name": f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} #{n}",
                "sku": f"SKU-{10000 + n}",
                "price": round(rng.uniform(4, 120), 2),
                "stock": rng.randint(0, 250),
            },
        )
        for n in range(1, PRODUCT_COUNT + 1)
    ]


def _posts(rng: random.Random) -> list[tuple[str, dict]]:
    return [
        (
            f"post-{n:03d}",
            {
                "title": f"{rng.choice(TOPICS)} ({n})",
                "published": f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}",
                "words": rng.randint(300, 1800),
            },
        )
        for n in range(1, 25)
    ]


def _customers(rng: random.Random) -> list[tuple[str, dict]]:
    people = []
    for n in range(1, 61):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        people.append(
            (
                f"customer-{n:03d}",
                {
                    "name": f"{first} {last}",
                    "email": f"{first.lower()}.{last.lower()}{n}@example.com",
                    "orders": rng.randint(0, 40),
                },
            )
        )
    return people
