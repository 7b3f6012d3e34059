"""Demo content for an emulated store: enough items that a restore visibly brings data back, in
collections that together use every common CMS field type, plus a Wix app's collection (Stores)
whose page size is smaller and whose items cannot be written through the Data Items API."""

import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from .models import EmuCollection, EmuItem, EmuSite

PRODUCT_COUNT = 300
ADJECTIVES = ["Classic", "Organic", "Handmade", "Vintage", "Minimal", "Deluxe", "Everyday", "Linen"]
NOUNS = ["Mug", "Tote Bag", "Candle", "Notebook", "Scarf", "Teapot", "Poster", "Blanket", "Lamp"]
TOPICS = ["Spring collection", "Behind the scenes", "Care guide", "Gift ideas", "Our makers"]
FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas"]
LAST = ["Moreau", "Okafor", "Silva", "Kowalski", "Tanaka", "Novak", "Haddad", "Berg", "Rossi"]
CITIES = [("Lisbon", "PT"), ("Berlin", "DE"), ("Osaka", "JP"), ("Lagos", "NG"), ("Lyon", "FR")]
STORES_APP_ID = "215238eb-22a5-4c36-9e7b-e7c08025e04e"  # Wix Stores' app id
BATCH = 2000

PERMISSIONS = {"insert": "ADMIN", "update": "ADMIN", "remove": "ADMIN", "read": "ANYONE"}


def _field(key: str, name: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "displayName": name, "type": kind, "systemField": False} | extra


SCHEMAS: dict[str, dict[str, Any]] = {
    "Products": {
        "displayName": "Products",
        "displayField": "name",
        "fields": [
            _field("name", "Name", "TEXT", required=True),
            _field("sku", "SKU", "TEXT"),
            _field("price", "Price", "NUMBER"),
            _field("stock", "Stock", "NUMBER"),
            _field("onSale", "On sale", "BOOLEAN"),
            _field("image", "Image", "IMAGE"),
            _field("description", "Description", "RICH_TEXT"),
            _field("tags", "Tags", "ARRAY"),
            _field("launchDate", "Launch date", "DATE"),
        ],
    },
    "BlogPosts": {
        "displayName": "Blog Posts",
        "displayField": "title",
        "fields": [
            _field("title", "Title", "TEXT", required=True),
            _field("published", "Published", "DATE"),
            _field("words", "Words", "NUMBER"),
            _field("author", "Author", "REFERENCE", referencedCollectionId="Customers"),
            _field("body", "Body", "RICH_CONTENT"),
            _field("cover", "Cover", "IMAGE"),
            _field("attachment", "Attachment", "DOCUMENT"),
            _field("link", "Link", "URL"),
        ],
    },
    "Customers": {
        "displayName": "Customers",
        "displayField": "name",
        "fields": [
            _field("name", "Name", "TEXT", required=True),
            _field("email", "Email", "TEXT"),
            _field("orders", "Orders", "NUMBER"),
            _field("vip", "VIP", "BOOLEAN"),
            _field("address", "Address", "ADDRESS"),
            _field("lastSeen", "Last seen", "DATETIME"),
            _field("preferences", "Preferences", "OBJECT"),
            _field(
                "favourites", "Favourites", "MULTI_REFERENCE", referencedCollectionId="Products"
            ),
        ],
    },
    "Events": {
        "displayName": "Events",
        "displayField": "title",
        "fields": [
            _field("title", "Title", "TEXT", required=True),
            _field("startsAt", "Starts at", "DATETIME"),
            _field("doorsOpen", "Doors open", "TIME"),
            _field("venue", "Venue", "ADDRESS"),
            _field("gallery", "Gallery", "MEDIA_GALLERY"),
            _field("capacity", "Capacity", "NUMBER"),
            _field("extra", "Extra", "ANY"),
        ],
    },
}

STORES_PRODUCTS = {
    "displayName": "Products (Stores)",
    "displayField": "name",
    "fields": [
        _field("name", "Name", "TEXT"),
        _field("price", "Price", "NUMBER"),
        _field("mainMedia", "Main media", "IMAGE"),
        _field("productOptions", "Options", "OBJECT"),
    ],
}


def _date(moment: datetime) -> dict[str, str]:
    from .services.content import wix_time  # the wire form of a date inside an item

    return {"$date": wix_time(moment) or ""}


def _image(rng: random.Random) -> str:
    name = f"{rng.randrange(16**12):012x}~mv2.jpg"
    return f"wix:image://v1/{name}/{name}#originWidth=800&originHeight=600"


def _rich(text: str) -> str:
    return f"<p>{text}</p>"


def _product(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "name": f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} #{n}",
        "sku": f"SKU-{10000 + n}",
        "price": round(rng.uniform(4, 120), 2),
        "stock": rng.randint(0, 250),
        "onSale": rng.random() < 0.2,
        "image": _image(rng),
        "description": _rich(f"Made by hand, batch {n}."),
        "tags": rng.sample(["gift", "new", "eco", "sale", "home"], k=2),
        "launchDate": f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}",
    }


def _post(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "title": f"{rng.choice(TOPICS)} ({n})",
        "published": f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}",
        "words": rng.randint(300, 1800),
        "author": f"customer-{rng.randint(1, 60):03d}",
        "body": {"nodes": [{"type": "PARAGRAPH", "nodes": [{"type": "TEXT", "text": "Hello"}]}]},
        "cover": _image(rng),
        "attachment": f"wix:document://v1/ugd/{rng.randrange(16**8):08x}.pdf/guide.pdf",
        "link": f"https://example.com/blog/{n}",
    }


def _customer(rng: random.Random, n: int) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city, country = rng.choice(CITIES)
    return {
        "name": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower()}{n}@example.com",
        "orders": rng.randint(0, 40),
        "vip": rng.random() < 0.1,
        "address": {"formatted": f"{n} Main St, {city}", "city": city, "country": country},
        "lastSeen": _date(datetime(2026, 11, 1, 9, 30) + timedelta(hours=n)),
        "preferences": {"newsletter": n % 2 == 0, "language": "en"},
        "favourites": [f"product-{rng.randint(1, PRODUCT_COUNT):04d}"],
    }


def _event(rng: random.Random, n: int) -> dict[str, Any]:
    city, country = rng.choice(CITIES)
    return {
        "title": f"Workshop {n}",
        "startsAt": _date(datetime(2026, 12, 1, 18, 0) + timedelta(days=n)),
        "doorsOpen": "17:30:00.000",
        "venue": {"formatted": f"Hall {n}, {city}", "city": city, "country": country},
        "gallery": [{"type": "image", "src": _image(rng), "title": f"Photo {n}"}],
        "capacity": rng.randint(10, 200),
        "extra": None if n % 3 else {"note": "bring a mug"},
    }


def _stores_product(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "name": f"Store item {n}",
        "price": round(rng.uniform(4, 120), 2),
        "mainMedia": _image(rng),
        "productOptions": {"Size": {"choices": ["S", "M", "L"]}},
    }


MAKERS: dict[str, tuple[Callable[[random.Random, int], dict[str, Any]], str, int]] = {
    # collection: (item maker, id prefix, demo count)
    "Products": (_product, "product-{:04d}", PRODUCT_COUNT),
    "BlogPosts": (_post, "post-{:03d}", 24),
    "Customers": (_customer, "customer-{:03d}", 60),
    "Events": (_event, "event-{:03d}", 12),
}


def _create(
    site: EmuSite, collection_id: str, schema: dict[str, Any], **extra: Any
) -> EmuCollection:
    return EmuCollection.objects.create(
        site=site,
        collection_id=collection_id,
        display_name=schema["displayName"],
        display_field=schema["displayField"],
        fields=schema["fields"],
        permissions=PERMISSIONS,
        created_at=site.now(),
        **extra,
    )


def fill(site: EmuSite) -> None:
    # A fixed seed: every demo site holds the same catalogue, so screenshots and docs agree.
    rng = random.Random(7)  # noqa: S311
    now = site.now()
    with transaction.atomic():
        for collection_id, (make, id_format, count) in MAKERS.items():
            collection = _create(site, collection_id, SCHEMAS[collection_id])
            _bulk(
                collection, [(id_format.format(n), make(rng, n)) for n in range(1, count + 1)], now
            )
        stores = _create(
            site,
            "Stores/Products",
            STORES_PRODUCTS,
            collection_type=EmuCollection.WIX_APP,
            owner_app_id=STORES_APP_ID,
            max_page_size=100,
            writable=False,
        )
        _bulk(stores, [(str(uuid.UUID(int=n)), _stores_product(rng, n)) for n in range(1, 41)], now)


def add_items(site: EmuSite, count: int) -> None:
    """`count` more items spread over the site's native collections, in batches (100,000 take a
    few seconds). A site without collections gets an "Items" collection for them."""
    rng = random.Random(count)  # noqa: S311
    collections = list(site.collections.filter(collection_type=EmuCollection.NATIVE))
    if not collections:
        collections = [_create(site, "Items", SCHEMAS["Products"] | {"displayName": "Items"})]
    now = site.now()
    makers = [MAKERS.get(c.collection_id, MAKERS["Products"])[0] for c in collections]
    with transaction.atomic():
        for start in range(0, count, BATCH):
            rows = []
            for n in range(start, min(count, start + BATCH)):
                which = n % len(collections)
                # Distinct, increasing creation times, so the order without a sort is stable.
                created = now - timedelta(milliseconds=count - n)
                rows.append(
                    EmuItem(
                        collection=collections[which],
                        item_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        data=makers[which](rng, n),
                        created_at=created,
                        updated_at=created,
                    )
                )
            EmuItem.objects.bulk_create(rows, batch_size=BATCH)


def _bulk(
    collection: EmuCollection, items: list[tuple[str, dict[str, Any]]], now: datetime
) -> None:
    EmuItem.objects.bulk_create(
        [
            EmuItem(
                collection=collection,
                item_id=item_id,
                data=data,
                created_at=now - timedelta(seconds=len(items) - n),
                updated_at=now - timedelta(seconds=len(items) - n),
            )
            for n, (item_id, data) in enumerate(items)
        ],
        batch_size=500,
    )
