# Written by hand in the style of `makemigrations` (issue 18, cancellations):
# - `after_sale.must_not_ship`: a cancellation TikTok applied, so the warehouse must not ship
#   the order; written with the status change that sets or clears it;
# - a partial index, the same on SQLite and PostgreSQL, over the few after-sales where it is
#   true: `afterSales(mustNotShip: true)` reads them without touching the rest.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_supersede_locale')]

    initial = False

    operations = [
        ops.AddField(
            model_name='AfterSale',
            name='must_not_ship',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.RunSQL(
            [
                "CREATE INDEX after_sale_must_not_ship"
                " ON after_sale (shop_id, type, created_at, id)"
                " WHERE must_not_ship = TRUE",
            ],
            reverse_sql=["DROP INDEX IF EXISTS after_sale_must_not_ship"],
        ),
    ]
