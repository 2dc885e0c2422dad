"""TagChangeLog is append-only: in Python always, and in the database (triggers) on PostgreSQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from apps.tags.models import TagChangeLog
from apps.tags.services import employee_tag_add
from backend.audit.db import AppendOnlyError


@pytest.fixture
def log_row(world, make_user):
    employee_tag_add(employee=world.emp_out, tag=world.tag, actor=make_user("hr"), level=2)
    return TagChangeLog.objects.get()


def test_python_refuses_to_change_or_delete_log_rows(log_row):
    log_row.action = "change"
    with pytest.raises(AppendOnlyError):
        log_row.save()
    with pytest.raises(AppendOnlyError):
        log_row.delete()
    with pytest.raises(AppendOnlyError):
        TagChangeLog.objects.filter(pk=log_row.pk).update(action="change")
    with pytest.raises(AppendOnlyError):
        TagChangeLog.objects.all().delete()
    assert TagChangeLog.objects.get().action == "add"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE tags_tagchangelog SET action = 'change'",
        "UPDATE tags_tagchangelog SET after = NULL WHERE id = %s",
        "DELETE FROM tags_tagchangelog WHERE id = %s",
        "DELETE FROM tags_tagchangelog",
    ],
)
def test_database_refuses_raw_update_and_delete(log_row, sql):
    params = [log_row.pk] if "%s" in sql else []
    refused = pytest.raises(DatabaseError, match="Cannot update or delete")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    row = TagChangeLog.objects.get()
    assert (row.action, row.after["level"]) == ("add", 2)
