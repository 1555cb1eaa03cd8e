"""A name search counts and pages from one scan of one narrow index; an item filter from an index range.

A substring search (``applicant_name LIKE '%…%'``) can use no index to find or order its
matches: 0003's covering index let it count them cheaply, but the page then walked the
(received_at, id) index reading wide case rows until 30 matched — for a name with a few dozen
cases that is most of the table. A search in Chinese can only be a name, and with received_at
and id beside the name one scan yields every match with its sort key; the list counts and
pages them in memory (``CaseListQuery.page_rows``). 0003's index stays for searches that may
also be a query code. The item filter gets (item_id, status, received_at, id), so "this item,
completed" is counted and paged on an index range instead of case rows.
"""


def up(migrator, db):
    migrator.migrate(
        migrator.add_index("case", ("applicant_name", "received_at", "id")),
        migrator.add_index("case", ("item_id", "status", "received_at", "id")),
    )
    db.execute_sql("ANALYZE")
