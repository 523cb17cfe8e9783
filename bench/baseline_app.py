"""The benchmark's anchor: the least a Flask + SQLAlchemy endpoint can do with a purchase.

It parses the same JSON body and inserts it into one table, with no
validation, no auth and no business rules. `bench/ingest.py` serves it under
gunicorn beside the real service and compares their throughput.
"""

import os
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, jsonify, request
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from surveys.db import make_engine


class Base(DeclarativeBase):
    pass


class RawPurchase(Base):
    __tablename__ = "raw_purchases"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    body: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


engine = make_engine(os.environ["DATABASE_URL"])
app = Flask(__name__)


@app.post("/api/v1/purchases")
def create_purchase():
    """Insert the posted JSON as it is."""
    body = request.get_json()
    with Session(engine) as session:
        row = RawPurchase(order_id=body["order_id"], body=body, created_at=datetime.now(UTC))
        session.add(row)
        session.commit()
        return jsonify({"id": row.id, "order_id": row.order_id}), 201


def create_schema() -> None:
    Base.metadata.create_all(engine)
