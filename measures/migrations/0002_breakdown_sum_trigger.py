"""A per-agency breakdown must add up to its value: a deferred constraint trigger.

A CHECK constraint cannot sum across rows, so on PostgreSQL the invariant is a
constraint trigger checked at commit (shares are written one by one, so the
check must wait for the last of them). SQLite, used only for the demo, relies
on the loader's and the admin's validation of the same rule.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION measures_breakdown_sums_to_total() RETURNS trigger AS $$
DECLARE
    checked_id bigint;
    total numeric;
    share_count integer;
    share_sum numeric;
BEGIN
    IF TG_TABLE_NAME = 'measures_targetvalue' THEN
        checked_id := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        checked_id := OLD.value_id;
    ELSE
        checked_id := NEW.value_id;
    END IF;
    SELECT quantity INTO total FROM measures_targetvalue WHERE id = checked_id;
    IF NOT FOUND THEN
        RETURN NULL;  -- the value itself was deleted with its shares
    END IF;
    SELECT count(*), coalesce(sum(quantity), 0) INTO share_count, share_sum
      FROM measures_targetvalueshare WHERE value_id = checked_id;
    IF share_count > 0 AND share_sum IS DISTINCT FROM total THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'targetvalue_breakdown_sums_to_total',
            MESSAGE = '各機關分配數合計 ' || trim_scale(share_sum) || ' 與目標值 ' || trim_scale(total)
                      || ' 不符。（目標值 id ' || checked_id || '）';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER targetvalue_breakdown_sums_to_total
    AFTER INSERT OR UPDATE OR DELETE ON measures_targetvalueshare
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION measures_breakdown_sums_to_total();

CREATE CONSTRAINT TRIGGER targetvalue_breakdown_sums_to_total
    AFTER UPDATE OF quantity ON measures_targetvalue
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION measures_breakdown_sums_to_total();
"""

DROP = """
DROP TRIGGER IF EXISTS targetvalue_breakdown_sums_to_total ON measures_targetvalueshare;
DROP TRIGGER IF EXISTS targetvalue_breakdown_sums_to_total ON measures_targetvalue;
DROP FUNCTION IF EXISTS measures_breakdown_sums_to_total();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("measures", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
