"""An honest ledger: neutral touches, and the touches an earlier ledger miscounted corrected.

The thank-you page counted as a positive touch (even after "the fix did not work"); it is
neutral now (we asked, we gave nothing). Internal escalations, cases marked resolved and
bounces counted as the customer's touches; they are not, and their rows are removed. The
tallies kept on the customers they touched are counted again from what remains. See
surveys/services/customers/ledger.py for the rules.

Going down turns neutral thank-you touches positive again and removes the other neutral
touches; the removed rows cannot come back.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

NOT_TOUCHES = "('escalation', 'resolution', 'bounce')"


def _count_again(customers_touched: str) -> None:
    op.execute(
        f"""
        UPDATE customers SET
            positive_touches = (SELECT count(*) FROM touchpoints t
                                WHERE t.customer_id = customers.id AND t.polarity = 'positive'),
            negative_touches = (SELECT count(*) FROM touchpoints t
                                WHERE t.customer_id = customers.id AND t.polarity = 'negative'),
            last_positive_touch_at = (SELECT max(t.occurred_at) FROM touchpoints t
                                      WHERE t.customer_id = customers.id
                                        AND t.polarity = 'positive')
        WHERE id IN ({customers_touched})
        """
    )


def _polarity_may_be(values: str) -> None:
    with op.batch_alter_table("touchpoints", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_touchpoints_polarity"), type_="check")
        batch_op.create_check_constraint(op.f("ck_touchpoints_polarity"), f"polarity in {values}")


def upgrade() -> None:
    _polarity_may_be("('positive', 'negative', 'neutral')")
    op.execute(
        "CREATE TEMPORARY TABLE ledger_customers AS SELECT DISTINCT customer_id FROM touchpoints "
        f"WHERE kind IN {NOT_TOUCHES} OR (kind = 'thank_you' AND polarity = 'positive')"
    )
    op.execute(f"DELETE FROM touchpoints WHERE kind IN {NOT_TOUCHES}")
    op.execute("UPDATE touchpoints SET polarity = 'neutral' WHERE kind = 'thank_you'")
    _count_again("SELECT customer_id FROM ledger_customers")
    op.execute("DROP TABLE ledger_customers")


def downgrade() -> None:
    op.execute(
        "CREATE TEMPORARY TABLE ledger_customers AS SELECT DISTINCT customer_id FROM touchpoints "
        "WHERE kind = 'thank_you'"
    )
    op.execute("UPDATE touchpoints SET polarity = 'positive' WHERE kind = 'thank_you'")
    op.execute("DELETE FROM touchpoints WHERE polarity = 'neutral'")
    _count_again("SELECT customer_id FROM ledger_customers")
    op.execute("DROP TABLE ledger_customers")
    _polarity_may_be("('positive', 'negative')")
